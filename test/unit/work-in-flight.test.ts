import { describe, expect, it } from 'vitest';
import { createWorkInFlight } from '../../src/adapters/shared/work-in-flight.ts';

/** Work that ends when `finish` is called, or when `signal` aborts (as an answer cut short delivers and ends). */
function pending(signal?: AbortSignal) {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  return { done, finish };
}

describe('work in flight', () => {
  it('drains once everything tracked has settled, failures included, without cutting anything short', async () => {
    const work = createWorkInFlight();
    const first = pending();
    work.track(first.done);
    work.track(Promise.reject(new Error('failed update'))).catch(() => {});
    expect(work.size).toBe(2);
    const drained = work.drain(60_000, 1000);
    first.finish();
    await expect(drained).resolves.toBe(true);
    expect(work.signal.aborted).toBe(false);
    expect(work.size).toBe(0);
  });

  it('waits for work that starts while it drains, such as an error reply after a failed update', async () => {
    const work = createWorkInFlight();
    const reply = pending();
    work.track(Promise.resolve().then(() => void work.track(reply.done)));
    let drained = false;
    const draining = work.drain(60_000, 1000).then((result) => {
      drained = result;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    expect(work.size).toBe(1);
    reply.finish();
    await draining;
    expect(drained).toBe(true);
  });

  it('cuts answers still running short when the grace period ends, and waits for them to end', async () => {
    const work = createWorkInFlight();
    const answer = pending(work.signal);
    work.track(answer.done);
    await expect(work.drain(10, 60_000)).resolves.toBe(false);
    expect(work.signal.aborted).toBe(true);
    expect(work.size).toBe(0);
  });
});
