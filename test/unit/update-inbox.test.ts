import type { Update } from 'grammy/types';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createUpdateInbox } from '../../src/adapters/telegram/durable-polling.ts';
import { openMemoryStore } from '../../src/store/memory-store.ts';
import { failingStore } from '../fixtures/failing-store.ts';

const update = (id: number) => ({ update_id: id, message: { text: `q${id}` } }) as unknown as Update;

function logCapture() {
  const lines: Array<{ level: number; msg: string }> = [];
  return {
    lines,
    log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
  };
}

describe('Telegram update inbox', () => {
  it('hands an update a killed process left unfinished to the next process, once', async () => {
    const store = openMemoryStore('poquan');
    const crashed = createUpdateInbox(store, logCapture().log);
    expect(await crashed.admit([update(1), update(2)])).toHaveLength(2);
    await crashed.settle(1);

    const restarted = createUpdateInbox(store, logCapture().log);
    expect((await restarted.takeUnfinished()).map((u) => u.update.update_id)).toEqual([2]);
    // Telegram sends the batch again when its confirmation never arrived: update 2 is not handled twice.
    expect((await restarted.admit([update(2), update(3)])).map((u) => u.update_id)).toEqual([3]);
    await restarted.settle(2);
    await restarted.settle(3);
    expect(await createUpdateInbox(store, logCapture().log).takeUnfinished()).toEqual([]);
  });

  it('ignores a batch it has already handled', async () => {
    const inbox = createUpdateInbox(openMemoryStore('poquan'), logCapture().log);
    await inbox.admit([update(5)]);
    await inbox.settle(5);
    expect(await inbox.admit([update(5)])).toEqual([]);
  });

  it('gives up on an update that stopped the bot three times, saying so', async () => {
    const store = openMemoryStore('poquan');
    await createUpdateInbox(store, logCapture().log).admit([update(7)]);
    expect(await createUpdateInbox(store, logCapture().log).takeUnfinished()).toHaveLength(1);
    expect(await createUpdateInbox(store, logCapture().log).takeUnfinished()).toHaveLength(1);
    const last = logCapture();
    expect(await createUpdateInbox(store, last.log).takeUnfinished()).toEqual([]);
    expect(last.lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: 'update dropped: the bot stopped while handling it every time',
      }),
    );
  });

  it('does not replay a question more than a day old', async () => {
    const store = openMemoryStore('poquan');
    let clock = 0;
    await createUpdateInbox(store, logCapture().log, () => clock).admit([update(8)]);
    clock = 25 * 3_600_000;
    expect(await createUpdateInbox(store, logCapture().log, () => clock).takeUnfinished()).toEqual([]);
  });

  it('passes updates on, with a warning, while the store is down', async () => {
    const failing = failingStore('SQLITE_BUSY: database is locked');
    const { lines, log } = logCapture();
    const inbox = createUpdateInbox(failing, log);
    expect(await inbox.takeUnfinished()).toEqual([]);
    expect(await inbox.admit([update(9)])).toHaveLength(1);
    await inbox.settle(9);
    expect(lines.filter((line) => line.level === 40).length).toBeGreaterThanOrEqual(2);
  });
});
