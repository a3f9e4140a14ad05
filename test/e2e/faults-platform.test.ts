import { describe, expect } from 'vitest';
import { discordErrors, rateLimited } from '../fakes/fake-discord.ts';
import { telegramError, telegramErrors } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import {
  adaChat,
  group,
  groundedAnswer as normalAnswer,
  foundersQuestion as question,
  startDiscordHarness,
  startTelegramHarness,
  until,
} from './harness.ts';

/**
 * Platform faults: rate limits, outages, a message deleted mid-answer, a blocked bot, expired interaction
 * tokens, lost permissions. Where the user can still be reached the answer still arrives; either way the bot
 * survives and answers the next question.
 */

const partial = 'Liang Wenfeng founded High-Flyer in 2015 and financed DeepSeek himself [1].';

describe.concurrent('Telegram platform faults', () => {
  it('waits out a 429 retry_after, then answers this question and the next', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups);
    bot.telegram.failNext('sendMessage', 1, telegramErrors.tooManyRequests(1));
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(bot.telegram.callsOf('sendMessage').map((c) => c.error_code ?? 200)).toEqual([429, 200]);
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
  });

  it('retries a 5xx with backoff, then answers this question and the next', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups);
    bot.telegram.failNext('sendMessage', 1, telegramErrors.serverError());
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(bot.telegram.callsOf('sendMessage').map((c) => c.error_code ?? 200)).toEqual([500, 200]);
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
  }, 10_000);

  it('sends a finished answer as plain text when Telegram refuses its final message for its content', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups);
    bot.telegram.failNext('sendMessage', 1, telegramErrors.tooLong());
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
    const calls = bot.telegram.callsOf('sendMessage');
    expect(calls.map((c) => c.error_code ?? 200)).toEqual([400, 200]);
    expect(calls.map((c) => c.body.parse_mode)).toEqual(['HTML', undefined]);
    expect(bot.logs.errors()).toEqual([]);
  });

  it('sends a finished answer again when the connection drops on its final message, once', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups);
    bot.telegram.failNext('sendMessage', 1, 'disconnect');
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(bot.telegram.callsOf('sendMessage').map((c) => c.ok)).toEqual([false, true]);
    expect(bot.logs.errors()).toEqual([]);
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
  });

  it('finishes a group answer when the connection drops twice while it grows by edits', async ({
    cleanups,
  }) => {
    // Quiet for longer than the retries' waits (0.5 s, 1 s), so a pause is not taken for the end.
    const bot = await startTelegramHarness(cleanups, {}, { quietMs: 1500 });
    // Two chunks 600 ms apart: a preview, an edit with the second chunk, and the final edit with the sources.
    // The dropped preview edit is not tried again (the final carries newer text); the final edit is.
    const long = `${partial} ${partial} ${partial}`;
    bot.llm.enqueue({ content: long, chunkChars: Math.ceil(long.length / 2), chunkDelayMs: 600 });
    bot.telegram.failNext('editMessageText', 2, 'disconnect');
    const replies = await bot.ask(`/ask ${question}`, group);
    expect(replies).toEqual([expect.stringMatching(/himself \[1\]\.\n\nSources\n/)]);
    const edits = bot.telegram.callsOf('editMessageText');
    expect(edits.map((c) => c.ok)).toEqual([false, false, true]);
    expect(edits[0]?.body.text).not.toContain('Sources');
    expect(edits[1]?.body.text).toEqual(edits[2]?.body.text);
    expect(bot.logs.errors()).toEqual([]);
  });

  it('sends the answer anew when the user deletes the message being edited ("message to edit not found")', async ({
    cleanups,
  }) => {
    // Group answers grow by edits every 250 ms; a longer quiet period tells the end from a pause.
    const bot = await startTelegramHarness(cleanups, {}, { quietMs: 400 });
    bot.llm.enqueue({ content: partial, chunkChars: 6, chunkDelayMs: 40 });
    const pending = bot.ask(`/ask ${question}`, group);
    await until(() => bot.telegram.botMessages(group.id).length > 0, 'the first preview');
    const preview = bot.telegram.botMessages(group.id)[0];
    bot.telegram.deleteMessage(group.id, preview?.message_id ?? 0);
    const replies = await pending;
    expect(replies.at(-1)).toMatch(
      /^Liang Wenfeng founded High-Flyer in 2015 and financed DeepSeek himself \[1\]/,
    );
    expect(
      bot.telegram
        .callsOf('editMessageText')
        .some((c) => /message to edit not found/.test(c.description ?? '')),
    ).toBe(true);
    expect(bot.logs.errors()).toEqual([]);
    expect((await bot.ask(`/ask ${question}`, group)).at(-1)).toMatch(normalAnswer);
  });

  it('lets a user who blocked the bot go quietly, and answers them again once they unblock it', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups);
    bot.telegram.setBlocked(adaChat.id, true);
    const blockedAsk = bot.telegram.pushMessage({ chat: adaChat, text: question });
    await until(
      () => bot.logs.entries().some((e) => e.updateId !== undefined && /blocked|unreachable/i.test(e.msg)),
      'the blocked update to be dropped',
    );
    expect(blockedAsk.message_id).toBeGreaterThan(0);
    expect(bot.telegram.botMessages(adaChat.id)).toEqual([]);
    expect(bot.logs.errors()).toEqual([]);
    bot.telegram.setBlocked(adaChat.id, false);
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
  });

  it('keeps polling after getUpdates fails, says so in the log, and answers the next question', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups);
    bot.telegram.failNext('getUpdates', 1, 'disconnect');
    bot.telegram.failNext('getUpdates', 1, telegramError(502, 'Bad Gateway'));
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
    const warnings = bot.logs.entries().filter((e) => e.level === 40 && e.msg === 'fetching updates failed');
    expect(warnings.map((e) => e.error_code ?? 'network')).toEqual(['network', 502]);
    expect(JSON.stringify(warnings)).not.toContain(bot.telegram.token);
  });
});

describe.concurrent('Discord platform faults', () => {
  it('waits out a 429, then answers this question and the next', async ({ cleanups }) => {
    const bot = await startDiscordHarness(cleanups);
    bot.discord.failNext('PATCH /webhooks/*/*/messages/@original', 1, rateLimited(0.3));
    expect(await bot.askSlash(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(await bot.askSlash(question)).toEqual([expect.stringMatching(normalAnswer)]);
  });

  it.for([
    ['its interaction token expires (50027)', 'expire'],
    ['its reply is deleted (10008)', 'delete'],
  ] as const)(
    'ends visibly in the channel when %s mid-answer, and answers the next question',
    async ([, fault], { cleanups }) => {
      const bot = await startDiscordHarness(cleanups);
      bot.llm.enqueue({ content: partial, chunkChars: 6, chunkDelayMs: 25 });
      const interaction = bot.discord.sendSlashCommand({
        place: bot.discord.channel,
        user: bot.user,
        name: 'ask',
        options: { question },
      });
      await bot.discord.waitForRequest((r) => r.path.endsWith('/callback'));
      if (fault === 'expire') bot.discord.expireInteraction(interaction.token);
      else bot.discord.messages.delete(bot.discord.originalMessage(interaction.token)?.id ?? '');
      const fallback = await bot.discord.waitForRequest(
        (r) => r.method === 'POST' && r.path === `/channels/${interaction.channel_id}/messages`,
      );
      expect(fallback.body.content).toMatch(/^Liang Wenfeng founded High-Flyer in 2015[\s\S]*-# Sources/);
      const failed = bot.discord.requests.find((r) => r.path.includes(interaction.token) && r.status >= 400);
      expect(failed?.response.code).toBe(fault === 'expire' ? 50027 : 10008);
      expect(bot.logs.errors()).toEqual([]);
      expect(await bot.askSlash(question)).toEqual([expect.stringMatching(normalAnswer)]);
    },
  );

  it.for([
    ['Missing Permissions (50013)', discordErrors.missingPermissions()],
    ['Missing Access (50001)', discordErrors.missingAccess()],
  ] as const)('survives %s in a channel and answers the next question', async ([, error], { cleanups }) => {
    const bot = await startDiscordHarness(cleanups);
    const channel = bot.discord.guild.channels.find((c) => c.type === 0)?.id;
    bot.discord.failNext(new RegExp(`^POST /channels/${channel}/(messages|typing)$`), 100, error);
    expect(await bot.mention(question, bot.discord.channel, { replies: false })).toEqual([]);
    expect(bot.discord.requests.filter((r) => r.status === 403).length).toBeGreaterThanOrEqual(2);
    expect(bot.logs.errors()).toEqual([]);
    // Slash commands answer through the interaction, which needs no channel permission; threads are unaffected.
    expect(await bot.askSlash(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(await bot.mention(question, bot.discord.thread)).toEqual([expect.stringMatching(normalAnswer)]);
  });

  it('answers in the channel an interaction Discord no longer knows (10062), and the next one as usual', async ({
    cleanups,
  }) => {
    const bot = await startDiscordHarness(cleanups);
    bot.discord.failNext('POST /interactions/*/*/callback', 1, discordErrors.unknownInteraction());
    const interaction = bot.discord.sendSlashCommand({
      place: bot.discord.channel,
      user: bot.user,
      name: 'ask',
      options: { question },
    });
    const posted = await bot.discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/channels/${interaction.channel_id}/messages`,
      10_000,
    );
    expect(posted.body.content).toMatch(normalAnswer);
    expect(bot.logs.errors()).toEqual([]);
    expect(await bot.askSlash(question)).toEqual([expect.stringMatching(normalAnswer)]);
  });
});
