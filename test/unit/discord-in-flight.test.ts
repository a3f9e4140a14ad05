import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createInFlightAnswers,
  type InFlightAnswer,
  type InFlightAnswers,
} from '../../src/adapters/discord/in-flight.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';

/**
 * The registry of Discord answers in flight: what one instance records is found by another only once its owner
 * is gone, and then by exactly one of the instances looking.
 */

const opened: OpenedStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function sharedFile(): Promise<() => Promise<InFlightAnswers>> {
  const dir = mkdtempSync(join(tmpdir(), 'poquan-in-flight-'));
  dirs.push(dir);
  return async () => {
    const store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    opened.push(store);
    return createInFlightAnswers({ store, log: pino({ level: 'silent' }) });
  };
}

const answer = (id: string): Omit<InFlightAnswer, 'owner'> => ({
  id,
  kind: 'message',
  startedAt: Date.now(),
  question: `question ${id}`,
  conversationId: `discord:channel:1:user:${id}`,
  language: 'en',
  isPrivate: false,
  channelId: '1',
  guildId: '2',
  userId: '3',
  messageId: id,
});

describe('answers in flight', () => {
  it('leaves the answers of an instance whose lease is live to it', async () => {
    const instance = await sharedFile();
    const [owner, other] = [await instance(), await instance()];
    await owner.renewLease();
    await owner.begin(answer('message:1'));
    expect(await other.takeOrphans()).toEqual([]);
    expect(await owner.takeOrphans()).toEqual([]);
  });

  it('hands each answer of a gone instance to exactly one of the instances looking, with what was noted', async () => {
    const instance = await sharedFile();
    const gone = await instance();
    for (const id of ['message:1', 'message:2', 'interaction:3']) await gone.begin(answer(id));
    await gone.note('message:2', { answerMessageId: '99' });
    await gone.finish('message:1');

    const lookers = await Promise.all([instance(), instance(), instance()]);
    const taken = await Promise.all(lookers.map((looker) => looker.takeOrphans()));
    const all = taken.flat();
    expect(all.map((record) => record.id).sort()).toEqual(['interaction:3', 'message:2']);
    expect(all.find((record) => record.id === 'message:2')?.answerMessageId).toBe('99');
    for (const [index, records] of taken.entries()) {
      for (const record of records) expect(record.owner).toBe(lookers[index]?.owner);
    }
  });

  it('makes a taken answer an orphan again when its new owner dies too, and forgets it once finished', async () => {
    const instance = await sharedFile();
    const gone = await instance();
    await gone.begin(answer('message:1'));
    const second = await instance();
    const [taken] = await second.takeOrphans();
    expect(taken?.owner).toBe(second.owner);

    // The second instance never renewed a lease: to a third one it is gone as well.
    const third = await instance();
    expect((await third.takeOrphans()).map((record) => record.id)).toEqual(['message:1']);
    await third.finish('message:1');
    expect(await (await instance()).takeOrphans()).toEqual([]);
  });
});
