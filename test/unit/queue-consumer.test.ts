import { describe, expect, it } from 'vitest';
import { startQueueConsumer } from '../../src/adapters/shared/queue-consumer.ts';
import type { QueuedItem } from '../../src/core/work-queue.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createMemoryWorkQueue } from '../../src/store/memory-queue.ts';

/**
 * The consumer the webhook runs on its work queue: a chat's items one after another and in order, chats
 * alongside each other, every item finished once however its handling ended, and a stop that hands back what
 * it had not started while letting what it had started finish.
 */

const leaseMs = 3000;

/** A handler whose calls wait until the test lets each one finish (or fail). */
function gatedHandler() {
  const calls: Array<{ id: string; attempts: number; finish(): void; fail(): void }> = [];
  const handle = (item: QueuedItem, attempts: number) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ id: item.id, attempts, finish: resolve, fail: () => reject(new Error('boom')) });
    });
  return { calls, handle };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let tries = 0; !check(); tries++) {
    if (tries > 250) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const item = (id: number, group: string) => ({ id: String(id), group, payload: '{}' });

describe('the queue consumer', () => {
  it("handles a chat's items one after another in order, and other chats alongside", async () => {
    const queue = createMemoryWorkQueue({ consumer: 'a', leaseMs, retentionMs: 60_000 });
    const { calls, handle } = gatedHandler();
    const consumer = startQueueConsumer({ queue, leaseMs, handle, log: createLogger('silent') });
    for (const queued of [item(1, 'ada'), item(2, 'ada'), item(3, 'bob')]) await queue.add(queued);
    consumer.wake();
    await waitFor(() => calls.length === 2);
    expect(calls.map((call) => call.id)).toEqual(['1', '3']);

    calls[0]?.fail();
    await waitFor(() => calls.length === 3);
    expect(calls[2]).toMatchObject({ id: '2', attempts: 1 });
    // A failed item is finished like an answered one: a redelivery is recognised, nothing runs it again.
    expect(await queue.add(item(1, 'ada'))).toBe('finished');
    for (const call of calls.slice(1)) call.finish();
    await consumer.stop();
    await consumer.drained();
    expect(await queue.add(item(2, 'ada'))).toBe('finished');
    expect(calls).toHaveLength(3);
  });

  it('on stop, gives back the items it had not started and waits for those it had', async () => {
    const queue = createMemoryWorkQueue({ consumer: 'a', leaseMs, retentionMs: 60_000 });
    const { calls, handle } = gatedHandler();
    const consumer = startQueueConsumer({ queue, leaseMs, handle, log: createLogger('silent') });
    await queue.add(item(1, 'ada'));
    await queue.add(item(2, 'ada'));
    consumer.wake();
    await waitFor(() => calls.length === 1);
    await consumer.stop();
    let drained = false;
    const draining = consumer.drained().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(drained).toBe(false);
    calls[0]?.finish();
    await draining;
    expect(calls).toHaveLength(1);
    // The second item waits in the queue for whoever claims next.
    expect((await queue.claim(10, false)).map((queued) => queued.id)).toEqual(['2']);
  });
});
