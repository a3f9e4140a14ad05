import type { Update } from 'grammy/types';
import { describe, expect } from 'vitest';
import { createTelegramBot } from '../../src/adapters/telegram/bot.ts';
import { handleUpdateFully } from '../../src/adapters/telegram/update-handling.ts';
import { storeKeys } from '../../src/core/store-keys.ts';
import { createLogger } from '../../src/logging/logger.ts';
import {
  ada,
  adaChat,
  type Cleanups,
  groundedAnswer,
  group,
  startPoquanOnFakeModel,
  telegramTiming,
} from '../e2e/harness.ts';
import { type FakeChat, startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';

/**
 * Only an update handled again after a stopped process can find what an earlier attempt left in the store (the
 * messages it sent, the mark that its reply was delivered). A first attempt — almost every update — reads only
 * the delivered mark and whether a later attempt took the update over; a later attempt also reads what the
 * earlier one sent, is not answered twice, and takes the chat over from an earlier attempt that is still running
 * (its process stalled past the queue's lease).
 */

const log = createLogger('silent');

/** A bot on the fakes whose store records every key read; `secondBot` is another process on the same store. */
async function botReadingTheStore(cleanups: Cleanups, env: Record<string, string> = {}) {
  const telegram = await startFakeTelegram({ token: '123:REPLAY' });
  cleanups.push(() => telegram.close());
  const { poquan, llm, logs } = await startPoquanOnFakeModel(cleanups, undefined, {
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.url,
    ...env,
  });
  const reads: string[] = [];
  const { store } = poquan;
  const get = store.get.bind(store);
  const getMany = store.getMany.bind(store);
  store.get = <T>(key: string) => {
    reads.push(key);
    return get<T>(key);
  };
  store.getMany = <T>(keys: string[]) => {
    reads.push(...keys);
    return getMany<T>(keys);
  };
  const startBot = async () => {
    const { bot, settle } = createTelegramBot(poquan, telegramTiming);
    await bot.init();
    cleanups.push(() => settle(1000));
    return bot;
  };
  const bot = await startBot();
  /** The reads of what earlier attempts at `update` sent, and of whether one delivered its reply. */
  const earlierAttemptReads = (update: Update) =>
    reads.filter(
      (key) =>
        [1, 2, 3].some(
          (attempt) => key === storeKeys.telegramPreview(bot.botInfo.id, update.update_id, attempt),
        ) || key === storeKeys.telegramDelivered(bot.botInfo.id, update.update_id),
    );
  return { telegram, llm, logs, store, bot, startBot, earlierAttemptReads };
}

/** The same update as the queue or the inbox hands it over after a restart: parsed again from what was stored. */
const storedCopy = (update: Update) => JSON.parse(JSON.stringify(update)) as Update;

const questionIn = (chat: FakeChat) =>
  chat.type === 'private' ? 'Who founded High-Flyer?' : '/ask Who founded High-Flyer?';

describe('a Telegram update', () => {
  for (const chat of [adaChat, group] as FakeChat[]) {
    it(`handled the first time reads only whether it was delivered, not what an earlier attempt sent (${chat.type})`, async ({
      cleanups,
    }) => {
      const { telegram, bot, earlierAttemptReads } = await botReadingTheStore(cleanups);
      const update = telegram.makeMessageUpdate({ chat, from: ada, text: questionIn(chat) });
      await handleUpdateFully(bot, update, log);
      expect(telegram.botMessages(chat.id).map((message) => message.text)).toEqual([
        expect.stringMatching(groundedAnswer),
      ]);
      expect(earlierAttemptReads(update)).toEqual([
        storeKeys.telegramDelivered(bot.botInfo.id, update.update_id),
      ]);
    });
  }

  it('handled again after its reply was delivered is not answered twice', async ({ cleanups }) => {
    const { telegram, llm, logs, bot, earlierAttemptReads } = await botReadingTheStore(cleanups);
    const update = telegram.makeMessageUpdate({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await handleUpdateFully(bot, update, log);
    // Killed after the reply went out but before the update was marked done: it is handed over again.
    await handleUpdateFully(bot, storedCopy(update), log, { attempt: 2 });
    expect(telegram.botMessages(adaChat.id)).toHaveLength(1);
    expect(llm.requests).toHaveLength(1);
    // Once by the first attempt, once by the replay, which stops there.
    expect(earlierAttemptReads(update)).toEqual([
      storeKeys.telegramDelivered(bot.botInfo.id, update.update_id),
      storeKeys.telegramDelivered(bot.botInfo.id, update.update_id),
    ]);
    expect(logs.entries().map((entry) => entry.msg)).toContain(
      'update already answered before a restart; not answered again',
    );
  });

  it('handled again without a delivered reply is answered, reading what the earlier attempts sent', async ({
    cleanups,
  }) => {
    const { telegram, bot, earlierAttemptReads } = await botReadingTheStore(cleanups);
    const update = telegram.makeMessageUpdate({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await handleUpdateFully(bot, update, log, { attempt: 3 });
    expect(telegram.botMessages(adaChat.id).map((message) => message.text)).toEqual([
      expect.stringMatching(groundedAnswer),
    ]);
    expect(earlierAttemptReads(update).sort()).toEqual(
      [
        storeKeys.telegramDelivered(bot.botInfo.id, update.update_id),
        storeKeys.telegramPreview(bot.botInfo.id, update.update_id, 1),
        storeKeys.telegramPreview(bot.botInfo.id, update.update_id, 2),
        storeKeys.telegramPreview(bot.botInfo.id, update.update_id, 3),
      ].sort(),
    );
  });

  it('handled again and failing before any text says so in one message, starting from what it left itself', async ({
    cleanups,
  }) => {
    const { telegram, llm, logs, store, bot } = await botReadingTheStore(cleanups);
    const update = telegram.makeMessageUpdate({ chat: group, from: ada, text: questionIn(group) });
    await handleUpdateFully(bot, update, log);
    // Killed after its answer was in the chat but before it was marked delivered; the model then fails.
    await store.delete(storeKeys.telegramDelivered(bot.botInfo.id, update.update_id));
    llm.enqueue({ status: 500 });
    await handleUpdateFully(bot, storedCopy(update), log, { attempt: 2 });
    expect(telegram.botMessages(group.id)).toHaveLength(1);
    expect(telegram.botMessages(group.id)[0]?.text).not.toMatch(groundedAnswer);
    expect(logs.entries().map((entry) => entry.msg)).not.toContain('message deleted; sending anew');
  });

  it('handled again just after an upgrade edits the preview the previous version recorded', async ({
    cleanups,
  }) => {
    const { telegram, store, bot } = await botReadingTheStore(cleanups);
    const update = telegram.makeMessageUpdate({ chat: group, from: ada, text: questionIn(group) });
    await handleUpdateFully(bot, update, log);
    await store.delete(storeKeys.telegramDelivered(bot.botInfo.id, update.update_id));
    // Versions before per-attempt records kept one record per update under this key, written as a literal: it
    // is what such a version left in the store when it was killed.
    const legacyKey = `telegram:${bot.botInfo.id}:preview:${update.update_id}`;
    const left = await store.get<Array<{ messageId: number }>>(legacyKey);
    expect(left?.map((message) => message.messageId)).toEqual(
      telegram.botMessages(group.id).map((message) => message.message_id),
    );
    await handleUpdateFully(bot, storedCopy(update), log, { attempt: 2 });
    expect(telegram.botMessages(group.id).map((message) => message.text)).toEqual([
      expect.stringMatching(groundedAnswer),
    ]);
  });

  for (const chat of [adaChat, group] as FakeChat[]) {
    it(`taken over by a later attempt while its first message was on the way leaves the chat to that one (${chat.type})`, async ({
      cleanups,
    }) => {
      const { telegram, logs, bot, startBot } = await botReadingTheStore(cleanups);
      const otherProcess = await startBot();
      const update = telegram.makeMessageUpdate({ chat, from: ada, text: questionIn(chat) });
      // The first attempt's first message reaches the chat, but its process stalls before it reads the answer
      // (or records it), long enough for the queue to hand the update to another process.
      const stalled = telegram.holdNext('sendMessage');
      const first = handleUpdateFully(bot, update, log);
      await stalled.arrived;
      await handleUpdateFully(otherProcess, storedCopy(update), log, { attempt: 2 });
      expect(telegram.botMessages(chat.id).map((message) => message.text)).toEqual([
        expect.any(String),
        expect.stringMatching(groundedAnswer),
      ]);
      // The stalled process wakes up: it takes its message back and stops.
      stalled.release();
      await first;
      expect(telegram.botMessages(chat.id).map((message) => message.text)).toEqual([
        expect.stringMatching(groundedAnswer),
      ]);
      expect(telegram.botMessages(chat.id)[0]?.reply_markup).toBeDefined();
      expect(logs.entries().map((entry) => entry.msg)).toContain(
        'a later attempt took the update over; this one stops',
      );
    });
  }

  it('taken over while its private draft was on the way draws no more of it', async ({ cleanups }) => {
    const { telegram, llm, bot, startBot } = await botReadingTheStore(cleanups);
    // The first attempt's model is still streaming when it wakes up; the later attempt's answers at once.
    llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer [1]. '.repeat(4),
      chunkChars: 4,
      chunkDelayMs: 50,
    });
    const otherProcess = await startBot();
    const update = telegram.makeMessageUpdate({ chat: adaChat, from: ada, text: questionIn(adaChat) });
    const stalled = telegram.holdNext('sendMessageDraft');
    const first = handleUpdateFully(bot, update, log);
    await stalled.arrived;
    await handleUpdateFully(otherProcess, storedCopy(update), log, { attempt: 2 });
    const draftsBefore = telegram.callsOf('sendMessageDraft', adaChat.id).length;
    stalled.release();
    await first;
    expect(telegram.callsOf('sendMessageDraft', adaChat.id)).toHaveLength(draftsBefore);
    expect(telegram.botMessages(adaChat.id).map((message) => message.text)).toEqual([
      expect.stringMatching(groundedAnswer),
    ]);
  });

  it('started by an earlier attempt after a later one took it over sends nothing', async ({ cleanups }) => {
    const { telegram, logs, bot, startBot } = await botReadingTheStore(cleanups);
    const otherProcess = await startBot();
    const update = telegram.makeMessageUpdate({ chat: group, from: ada, text: questionIn(group) });
    // The later attempt is under way (its preview out, its answer not yet delivered) when the earlier one starts.
    const later = telegram.holdNext('sendMessage');
    const taking = handleUpdateFully(otherProcess, storedCopy(update), log, { attempt: 2 });
    await later.arrived;
    await handleUpdateFully(bot, update, log);
    expect(telegram.callsOf('sendMessage', group.id)).toHaveLength(1);
    expect(logs.entries().map((entry) => entry.msg)).toContain(
      'a later attempt took the update over; this one stops',
    );
    later.release();
    await taking;
    expect(telegram.botMessages(group.id).map((message) => message.text)).toEqual([
      expect.stringMatching(groundedAnswer),
    ]);
  });
});
