import { describe, expect } from 'vitest';
import { firstPreviewWaitMs, isReadable } from '../../src/adapters/shared/throttled-answer.ts';
import { htmlToPlainText } from '../../src/adapters/telegram/render.ts';
import { rateLimited } from '../fakes/fake-discord.ts';
import type { FakeLlm, FakeReply } from '../fakes/fake-llm.ts';
import { telegramErrors } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import {
  adaChat,
  group,
  foundersQuestion as question,
  startDiscordHarness,
  startTelegramHarness,
} from './harness.ts';

/**
 * How an answer grows on each platform: the first preview carries a readable chunk, previews keep to the
 * platform's interval (one early preview per answer for its first 50 characters), and a preview the platform
 * rate-limits is dropped, never waited for: the finished answer goes out although the 429 asked for 30 s.
 */

const answer =
  'DeepSeek was founded in 2023 by Liang Wenfeng, who had made his fortune with the hedge fund High-Flyer ' +
  'in 2015 [1]. He financed the company with his own money, so it could work free of outside investors and ' +
  'their deadlines [1].';
/** About a word every 50 ms, no reasoning: several previews per answer at the cadences below. */
const streamed: FakeReply = { content: answer, reasoning: '', chunkChars: 6, chunkDelayMs: 50 };
/** Intervals wide enough that a preview's trip to the fake (a few ms, more on a busy machine) can't blur them. */
const timing = { privateIntervalMs: 300, groupIntervalMs: 600 };
const discordEditIntervalMs = 300;

/**
 * Checks previews (text and arrival at the fake platform) against the cadence: the first carries a readable
 * chunk — unless the model was slower than `firstPreviewWaitMs` to write one —, each shows more than the one
 * before, and they are no more than the interval allows over the time they span, plus the one early preview
 * for the first 50 characters. Counted over the span rather than gap by gap: the adapter spaces the calls'
 * starts, and on a busy machine one call's trip to the fake can take longer than the next one's.
 */
function expectCadence(previews: Array<{ at: number; text: string }>, intervalMs: number, llm: FakeLlm) {
  expect(previews.length).toBeGreaterThanOrEqual(2);
  const [first] = previews as [{ at: number; text: string }];
  const chunks = llm.requests.at(-1)?.contentChunks ?? [];
  const firstTokenAt = chunks[0]?.at ?? Number.POSITIVE_INFINITY;
  expect(isReadable(first.text) || first.at - firstTokenAt >= firstPreviewWaitMs).toBe(true);
  expect(first.text.length).toBeGreaterThan(chunks[0]?.text.trim().length ?? 0);
  const span = (previews.at(-1)?.at ?? 0) - first.at;
  // n previews at one interval apart span (n - 1) intervals; one may come early, one trip may be slow.
  expect(previews.length).toBeLessThanOrEqual(Math.floor(span / intervalMs) + 3);
  for (let i = 1; i < previews.length; i++) {
    expect(previews[i]?.text.length).toBeGreaterThan(previews[i - 1]?.text.length ?? 0);
  }
}

describe.concurrent('Telegram preview cadence', () => {
  it('drafts in a private chat start with a readable chunk and keep to the draft interval', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups, {}, { timing });
    bot.llm.enqueue(streamed);
    const [reply] = await bot.ask(question);
    expect(reply?.startsWith(answer)).toBe(true);
    const drafts = bot.telegram.callsOf('sendMessageDraft', adaChat.id);
    expectCadence(
      drafts.map((call) => ({ at: call.at, text: htmlToPlainText(call.body.text) })),
      timing.privateIntervalMs,
      bot.llm,
    );
    expect(bot.telegram.calls.filter((call) => !call.ok)).toEqual([]);
  });

  it('group previews start with a readable chunk and keep to the group interval', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, {}, { quietMs: 800, timing });
    bot.llm.enqueue({ ...streamed, chunkDelayMs: 80 });
    const [reply] = await bot.ask(`/ask ${question}`, group);
    expect(reply?.startsWith(answer)).toBe(true);
    const calls = bot.telegram.calls.filter(
      (call) => ['sendMessage', 'editMessageText'].includes(call.method) && call.body.chat_id === group.id,
    );
    // Every call but the last (the final answer with its sources) is a preview.
    expectCadence(
      calls.slice(0, -1).map((call) => ({ at: call.at, text: htmlToPlainText(call.body.text) })),
      timing.groupIntervalMs,
      bot.llm,
    );
  });

  it('drops a draft Telegram rate-limits, sends no draft while limited, and sends the answer without waiting', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups);
    bot.llm.enqueue(streamed);
    bot.telegram.failNext('sendMessageDraft', 1, telegramErrors.tooManyRequests(30));
    const [reply] = await bot.ask(question);
    expect(reply?.startsWith(answer)).toBe(true);
    const drafts = bot.telegram.callsOf('sendMessageDraft', adaChat.id);
    // The one refused draft, never retried, and none sent inside its 30 s (`early` would mark one).
    expect(drafts.map((call) => call.error_code)).toEqual([429]);
    const [final] = bot.telegram.callsOf('sendMessage', adaChat.id);
    expect(final?.ok).toBe(true);
    expect(final?.at).toBeGreaterThan(drafts[0]?.at ?? Number.POSITIVE_INFINITY);
    expect(bot.logs.errors()).toEqual([]);
  });
});

describe.concurrent('Discord preview cadence', () => {
  it('live edits start with a readable chunk and keep to the edit interval', async ({ cleanups }) => {
    const bot = await startDiscordHarness(cleanups, {}, { editIntervalMs: discordEditIntervalMs });
    bot.llm.enqueue(streamed);
    const [reply] = await bot.askSlash(question);
    expect(reply?.startsWith(answer)).toBe(true);
    const edits = bot.discord.requests.filter(
      (r) =>
        r.method === 'PATCH' && r.path.endsWith('/messages/@original') && !r.body.content.includes('Sources'),
    );
    expectCadence(
      edits.map((r) => ({ at: r.at, text: String(r.body.content).replace(/▌$/, '') })),
      discordEditIntervalMs,
      bot.llm,
    );
  });

  it.for([
    ['an interaction', 'PATCH /webhooks/*/*/messages/@original'],
    ['a reply to a mention', 'PATCH /channels/*/messages/*'],
  ] as const)(
    'drops a live edit of %s Discord rate-limits, makes none while limited, and sends the answer without waiting',
    async ([place, route], { cleanups }) => {
      // Quiet for longer than the wait for a first readable chunk, so the mention's reply is not missed.
      const bot = await startDiscordHarness(cleanups, {}, { quietMs: 600 });
      bot.llm.enqueue(streamed);
      bot.discord.failNext(route, 1, rateLimited(30));
      const replies = place === 'an interaction' ? await bot.askSlash(question) : await bot.mention(question);
      expect(replies).toEqual([expect.stringContaining(answer)]);
      const edits = bot.discord.requests.filter(
        (r) => r.method === 'PATCH' && (r.path.endsWith('/@original') || r.path.startsWith('/channels/')),
      );
      const limited = edits.findIndex((r) => r.status === 429);
      expect(limited).toBeGreaterThanOrEqual(0);
      // After the 429 only the final answer: the refused preview is not sent again, and nothing waits 30 s.
      const after = edits.slice(limited + 1);
      expect(after).toHaveLength(1);
      expect(after[0]?.status).toBe(200);
      expect(after[0]?.body.content).toContain('Sources');
      expect(bot.logs.errors()).toEqual([]);
    },
  );
});
