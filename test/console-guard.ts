import { afterEach, beforeEach, type MockInstance, vi } from 'vitest';

const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;

/**
 * Fails a test that writes to the console, so the run stays quiet and a forgotten debug line or an unexpected
 * library warning is seen at once. A test that expects output takes the method over itself —
 * `vi.spyOn(console, 'warn').mockImplementation(…)` — and asserts on it; that output is not stray.
 */
export function failOnStrayConsoleOutput(): void {
  let spies: Array<[string, MockInstance]> = [];
  beforeEach(() => {
    spies = methods.map((method) => [method, vi.spyOn(console, method)]);
  });
  afterEach(() => {
    const stray = spies
      .filter(([, spy]) => spy.getMockImplementation() === undefined)
      .flatMap(([method, spy]) =>
        spy.mock.calls.map((args) => `console.${method}(${args.map((arg) => String(arg)).join(', ')})`),
      );
    for (const [, spy] of spies) spy.mockRestore();
    if (stray.length > 0) {
      throw new Error(
        `Stray console output (take the method over with vi.spyOn if the test expects it):\n${stray.join('\n')}`,
      );
    }
  });
}
