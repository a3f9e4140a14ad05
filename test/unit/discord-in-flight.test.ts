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
import { createTokenSeal } from '../../src/adapters/discord/token-seal.ts';
import { storeKeys } from '../../src/core/store-keys.ts';
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

const botToken = 'MTA.bot-token-of-these-tests';

/** Instances on one store file, on the same bot token unless told otherwise. */
async function sharedFile(): Promise<(token?: string) => Promise<InFlightAnswers & { store: OpenedStore }>> {
  const dir = mkdtempSync(join(tmpdir(), 'poquan-in-flight-'));
  dirs.push(dir);
  return async (token = botToken) => {
    const store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    opened.push(store);
    const answers = createInFlightAnswers({
      store,
      log: pino({ level: 'silent' }),
      seal: createTokenSeal(token),
    });
    return Object.assign(answers, { store });
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

  it("keeps an interaction's token only sealed, for instances on the same bot token", async () => {
    const instance = await sharedFile();
    const gone = await instance();
    const token = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnNlY3JldA-interaction-token';
    const ask = { ...answer('interaction:7'), kind: 'interaction' as const, applicationId: '5', token };
    await gone.begin(ask);
    await gone.note('interaction:7', { answerMessageId: '70' });

    const stored = await gone.store.get(storeKeys.discordInFlight('interaction:7'));
    expect(stored).toMatchObject({ id: 'interaction:7', applicationId: '5', answerMessageId: '70' });
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token.slice(0, 12));

    // After a bot token rotation the record is still taken over, without a token: it can't be answered.
    const [rotated] = await (await instance('MTA.the-rotated-bot-token')).takeOrphans();
    expect(rotated).toMatchObject({ id: 'interaction:7', answerMessageId: '70' });
    expect(rotated).not.toHaveProperty('token');
    // That instance has died too; one on the bot token the record was sealed with gets the token back.
    const [same] = await (await instance()).takeOrphans();
    expect(same).toMatchObject({ ...ask, answerMessageId: '70' });
  });
});

describe('sealed interaction tokens', () => {
  const seal = createTokenSeal(botToken);

  it('open to the token under the same bot token and record, each sealing different', () => {
    const [first, second] = [seal.seal('token-1', 'interaction:1'), seal.seal('token-1', 'interaction:1')];
    expect(first).not.toBe(second);
    expect(createTokenSeal(botToken).open(first, 'interaction:1')).toBe('token-1');
    expect(seal.open(second, 'interaction:1')).toBe('token-1');
  });

  it('fail closed under another bot token, for another record, altered or cut short', () => {
    const sealed = seal.seal('token-1', 'interaction:1');
    expect(createTokenSeal(`${botToken}x`).open(sealed, 'interaction:1')).toBeUndefined();
    expect(seal.open(sealed, 'interaction:2')).toBeUndefined();
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[bytes.length - 1] = (bytes.at(-1) as number) ^ 1;
    expect(seal.open(bytes.toString('base64url'), 'interaction:1')).toBeUndefined();
    expect(seal.open(sealed.slice(0, 20), 'interaction:1')).toBeUndefined();
    expect(seal.open('', 'interaction:1')).toBeUndefined();
  });
});
