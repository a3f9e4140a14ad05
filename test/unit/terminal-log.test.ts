import { describe, expect, it } from 'vitest';
import { createTerminalLog } from '../../src/adapters/cli/terminal-log.ts';
import { StoreError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/logging/logger.ts';

/**
 * What a CLI command run without LOG_LEVEL prints of its log: plain `poquan:` lines, no JSON and no stack, and
 * a store that cannot be used said once, naming STORE_URL without its password.
 */

function terminal(storeUrl = 'redis://:store-secret@127.0.0.1:6390/0') {
  const written: string[] = [];
  const logger = createLogger('warn', createTerminalLog({ write: (text) => written.push(text) }, storeUrl), [
    'sk-configured-secret',
  ]);
  return { logger, written };
}

function offline(what: string): StoreError {
  const cause = new Error('The client is offline');
  return new StoreError(`store ${what} failed: ${cause.message}`, { cause });
}

describe('the terminal log', () => {
  it('says a failing store once, naming STORE_URL without its password', () => {
    const { logger, written } = terminal();
    logger.warn({ err: offline('rate window') }, 'rate limiter unavailable; allowing the question');
    logger.warn(
      { err: offline('read'), conversationId: 'cli:x' },
      'memory unavailable; answering without history',
    );
    logger.warn({ err: offline('write') }, 'answer cache unavailable');
    expect(written).toEqual([
      'poquan: warning: STORE_URL (redis://127.0.0.1:6390/0) cannot be used (The client is offline); answering without conversation memory, answer cache or limits.\n',
    ]);
  });

  it('prints any other warning or error as one plain line with its innermost reason, secrets scrubbed', () => {
    const { logger, written } = terminal();
    const error = new Error('index worker failed', { cause: new Error('bad key sk-configured-secret') });
    logger.warn({ dir: '/kb' }, 'KNOWLEDGE_DIR is gone; keeping the current version until it is back');
    logger.error({ err: error }, 'reload failed');
    logger.info('loaded');
    expect(written).toEqual([
      'poquan: warning: KNOWLEDGE_DIR is gone; keeping the current version until it is back\n',
      'poquan: error: reload failed (bad key [redacted])\n',
    ]);
  });
});
