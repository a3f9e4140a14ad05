import type { APIUser } from 'discord.js';
import { expect } from 'vitest';
import { createDiscordClient, type DiscordBot } from '../../src/adapters/discord/client.ts';
import { type RunningTelegramAdapter, startTelegramAdapter } from '../../src/adapters/telegram/index.ts';
import { createPoquan, type Poquan } from '../../src/composition-root.ts';
import { type Config, loadConfig, secretsOf } from '../../src/core/config.ts';
import { dayOf, type Vote, type VoteRecord } from '../../src/core/feedback.ts';
import type { Logger } from '../../src/core/logger.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { type FakeDiscord, type RecordedRequest, startFakeDiscord } from '../fakes/fake-discord.ts';
import { fakeUser, type Place } from '../fakes/fake-discord-fixtures.ts';
import { type FakeLlm, type FakeLlmOptions, startFakeLlm } from '../fakes/fake-llm.ts';
import {
  type FakeChat,
  type FakeTelegram,
  type FakeTelegramOptions,
  startFakeTelegram,
} from '../fakes/fake-telegram.ts';

/**
 * Test harnesses for the reliability and security specs: a real Poquan with the real grammY or discord.js
 * client, talking to the loopback fakes, with every log line captured. Each `start…` registers its cleanup
 * in the list it is given: a test's own `cleanups` fixture (`test/fixtures/it.ts`), or a list a spec runs after
 * a whole file.
 */

/** The roles of the messages in the model request number `index` (`system`, `user`, `assistant` …). */
export function promptRoles(llm: FakeLlm, index: number): string[] {
  const messages = (llm.requests[index]?.body?.messages ?? []) as Array<{ role: string }>;
  return messages.map((message) => message.role);
}

/** Teardown steps, run last-in first-out by `runCleanups`. */
export type Cleanups = Array<() => Promise<unknown>>;

/** Runs and empties the cleanup list, newest first. */
export async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** Log lines as written (JSON text), with a parsed view for assertions. */
export interface CapturedLogs {
  lines: string[];
  entries(): Array<Record<string, unknown> & { level: number; msg: string }>;
  /** Lines at error level (50) or above: an unexpected failure somewhere. */
  errors(): string[];
}

/** The project's logger, as `poquan start` makes it (the configured secrets scrubbed), writing into `lines`. */
function captureLogs(config: Config): { logs: CapturedLogs; logger: Logger } {
  const lines: string[] = [];
  const logs: CapturedLogs = {
    lines,
    entries: () => lines.map((line) => JSON.parse(line)),
    errors: () => lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50),
  };
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) }, secretsOf(config));
  return { logs, logger };
}

/** Settings every harness uses: the mini knowledge, throwaway memory, no cache, no rate limit, no retries. */
const baseEnv = {
  KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
  STORE_URL: 'memory://',
  LLM_API_KEY: 'sk-test',
  LLM_MAX_RETRIES: '0',
  ANSWER_CACHE_TTL_HOURS: '0',
  RATE_LIMIT_PER_MINUTE: '0',
  SHOW_REASONING: 'off',
};

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling every 20 ms; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** A fake model and a Poquan on it with the base settings plus `env`, every log line captured. */
export async function startPoquanOnFakeModel(
  cleanups: Cleanups,
  llmOptions: FakeLlmOptions | undefined,
  env: Record<string, string>,
): Promise<{ llm: FakeLlm; poquan: Poquan; logs: CapturedLogs }> {
  const llm = await startFakeLlm(llmOptions);
  cleanups.push(() => llm.close());
  const config = loadConfig({ ...baseEnv, LLM_BASE_URL: llm.url, ...env });
  const { logs, logger } = captureLogs(config);
  const poquan = await createPoquan(config, logger);
  cleanups.push(() => poquan.close());
  return { llm, poquan, logs };
}

/** A question the mini knowledge covers, and the fake model's usual grounded answer to any such question. */
export const foundersQuestion = 'Who founded High-Flyer?';
export const groundedAnswer = /^According to the knowledge file, .*\[1\]/;

export const ada = { id: 42, is_bot: false, first_name: 'Ada', language_code: 'en' };
export const adaChat: FakeChat = { id: 42, type: 'private', first_name: 'Ada' };
export const group: FakeChat = { id: -1001, type: 'supergroup', title: 'AI watchers' };

/** A Telegram bot on the fakes; `ask` sends a message and resolves with the bot's reply once it is final. */
export interface TelegramHarness {
  telegram: FakeTelegram;
  llm: FakeLlm;
  poquan: Poquan;
  adapter: RunningTelegramAdapter;
  logs: CapturedLogs;
  /**
   * Pushes `text` into `chat` and resolves with the texts of the bot messages that appeared for it, once the
   * chat has been quiet for `quietMs` (so a second, unwanted reply would be caught too).
   */
  ask(text: string, chat?: FakeChat, from?: typeof ada): Promise<string[]>;
}

/** Fast but real cadence, as in the adapter's own tests. */
export const telegramTiming = {
  privateIntervalMs: 60,
  groupIntervalMs: 250,
  messageGapMs: 50,
  typingIntervalMs: 200,
};

/** Starts the fakes and a Telegram adapter over them. */
export async function startTelegramHarness(
  cleanups: Cleanups,
  env: Record<string, string> = {},
  options: {
    telegram?: FakeTelegramOptions;
    llm?: FakeLlmOptions;
    quietMs?: number;
    timing?: Partial<typeof telegramTiming>;
  } = {},
): Promise<TelegramHarness> {
  const telegram = await startFakeTelegram({ token: '123:TEST', ...options.telegram });
  cleanups.push(() => telegram.close());
  const { llm, poquan, logs } = await startPoquanOnFakeModel(cleanups, options.llm, {
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.url,
    ...env,
  });
  const adapter = await startTelegramAdapter(poquan, { ...telegramTiming, ...options.timing });
  cleanups.push(() => adapter.stop(1000));
  const quietMs = options.quietMs ?? 150;

  const lastActivity = (chatId: number) =>
    Math.max(0, ...telegram.calls.filter((c) => Number(c.body?.chat_id) === chatId).map((c) => c.at));
  return {
    telegram,
    llm,
    poquan,
    adapter,
    logs,
    async ask(text, chat = adaChat, from = ada) {
      const before = new Set(telegram.botMessages(chat.id).map((m) => m.message_id));
      const sent = telegram.pushMessage({ chat, from, text });
      await until(
        () =>
          telegram.botMessages(chat.id).some((m) => !before.has(m.message_id)) &&
          performance.now() - lastActivity(chat.id) > quietMs,
        `a reply to "${text.slice(0, 40)}" (message ${sent.message_id})`,
        10_000,
      );
      return telegram
        .botMessages(chat.id)
        .filter((m) => !before.has(m.message_id))
        .map((m) => m.text);
    },
  };
}

/** A Discord bot on the fakes; `askSlash` runs `/ask` and resolves with the interaction's final messages. */
export interface DiscordHarness {
  discord: FakeDiscord;
  llm: FakeLlm;
  poquan: Poquan;
  bot: DiscordBot;
  logs: CapturedLogs;
  user: APIUser;
  /**
   * Sends `/name options` and resolves, once the interaction has been quiet for `quietMs`, with what the user
   * ends up seeing: the original response's content (or the callback's) and any follow-ups.
   */
  command(name: string, options?: Record<string, string | boolean>, user?: APIUser): Promise<string[]>;
  /** `/ask question:…` in the guild channel. */
  askSlash(question: string, user?: APIUser): Promise<string[]>;
  /**
   * Mentions the bot with `text` in the guild channel; resolves with the contents of its reply messages. With
   * `replies: false` (a channel the bot can't post in) it resolves once the bot has logged the answer as delivered
   * to wherever it could go.
   */
  mention(text: string, place?: Place, expect?: { replies: boolean }): Promise<string[]>;
}

/** Calls that create or edit a visible message, the only ones that could ping anyone. */
export function messageWrites(discord: FakeDiscord): RecordedRequest[] {
  return discord.requests.filter(
    (r) =>
      ((r.method === 'POST' || r.method === 'PATCH') &&
        (/^\/webhooks\//.test(r.path) || /^\/channels\/\d+\/messages/.test(r.path))) ||
      (r.path.endsWith('/callback') && r.body?.type === 4),
  );
}

/** Starts the fakes and a connected Discord client over them. */
export async function startDiscordHarness(
  cleanups: Cleanups,
  env: Record<string, string> = {},
  options: { llm?: FakeLlmOptions; quietMs?: number; editIntervalMs?: number } = {},
): Promise<DiscordHarness> {
  const discord = await startFakeDiscord();
  cleanups.push(() => discord.close());
  const { llm, poquan, logs } = await startPoquanOnFakeModel(cleanups, options.llm, {
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_BASE: discord.apiBase,
    ...env,
  });
  const bot = createDiscordClient(poquan, { editIntervalMs: options.editIntervalMs ?? 100 });
  cleanups.push(() => bot.stop(1000));
  await bot.start();
  const quietMs = options.quietMs ?? 150;
  const user = fakeUser({ username: 'asker' });

  /** Waits until the last request `matches` is `quietMs` old and what the user sees is no longer in progress. */
  const settle = async (matches: (r: RecordedRequest) => boolean, what: string, isFinal = () => true) => {
    await until(
      () => {
        const last = discord.requests.filter(matches).at(-1);
        return last !== undefined && performance.now() - last.at > quietMs && isFinal();
      },
      what,
      10_000,
    );
  };
  const deliveredLines = () => logs.entries().filter((entry) => entry.msg === 'delivered').length;
  /** The live view of an answer (deferred and empty, "thinking…", or text with a cursor), not its end. */
  const inProgress = (content: string) =>
    content === '' || content.startsWith('-# 💭 Thinking') || content.endsWith('▌');
  /** Contents of the channel and DM messages posted since `since`: answers that fell back from a webhook. */
  const channelPosts = (since: number) =>
    discord.requests
      .filter(
        (r) =>
          r.at >= since &&
          r.method === 'POST' &&
          /^\/channels\/\d+\/messages$/.test(r.path) &&
          r.status < 400,
      )
      .map((r) => discord.messages.get(r.response.id as string)?.content ?? '');

  const command: DiscordHarness['command'] = async (name, options = {}, asker = user) => {
    const sentAt = performance.now();
    const interaction = discord.sendSlashCommand({ place: discord.channel, user: asker, name, options });
    const ofThis = (r: RecordedRequest) => r.path.includes(interaction.token);
    const seen = () => {
      const callback = discord.requests.find((r) => ofThis(r) && r.path.endsWith('/callback'));
      const original = discord.originalMessage(interaction.token)?.content;
      const followUps = discord.requests
        .filter((r) => ofThis(r) && r.method === 'POST' && !r.path.endsWith('/callback') && r.status < 400)
        .map((r) => discord.messages.get(r.response?.id as string)?.content ?? String(r.body?.content));
      const initial = callback?.body?.type === 4 ? [String(callback.body.data?.content)] : [];
      return [
        ...initial,
        ...(original !== undefined ? [original] : []),
        ...followUps,
        ...channelPosts(sentAt),
      ];
    };
    // Its own calls, and channel or DM messages: where an answer goes when the interaction can't be used.
    await settle(
      (r) => ofThis(r) || (r.at >= sentAt && r.method === 'POST' && r.path.startsWith('/channels/')),
      `/${name}`,
      () => {
        const texts = seen();
        // A fallback message ends the answer even while the original stays a "thinking…" placeholder.
        return texts.length === 0 || !inProgress(texts.at(-1) as string);
      },
    );
    return seen()
      .filter((text) => !inProgress(text))
      .filter((text, index, all) => all.indexOf(text) === index);
  };

  return {
    discord,
    llm,
    poquan,
    bot,
    logs,
    user,
    command,
    askSlash: (question, asker = user) => command('ask', { question }, asker),
    async mention(text, place = discord.channel, expect = { replies: true }) {
      const message = discord.sendUserMessage({
        place,
        author: user,
        content: `<@${discord.botUser.id}> ${text}`,
        mentions: [discord.botUser],
      });
      const channelId = 'dmChannelId' in place ? place.dmChannelId : place.channel.id;
      const sentAt = performance.now();
      const deliveredBefore = deliveredLines();
      // The typing indicator is a request too: only a posted reply that is no longer in progress ends the wait,
      // however long a loaded machine takes between the two.
      await settle(
        (r) => r.at >= sentAt && r.path.startsWith(`/channels/${channelId}/messages`),
        `a reply to ${message.id}`,
        () => {
          const last = channelPosts(sentAt).at(-1);
          if (!expect.replies) return deliveredLines() > deliveredBefore;
          return last !== undefined && !inProgress(last);
        },
      );
      // The reply, and any follow-up or fallback message posted in the channel after it.
      return channelPosts(sentAt);
    },
  };
}

/** Votes cast in the last minute (looking at yesterday too, so a run at midnight UTC still finds them). */
export async function recentVotes(poquan: Poquan): Promise<VoteRecord[]> {
  const days = [...new Set([dayOf(Date.now() - 60_000), dayOf(Date.now())])];
  return (await Promise.all(days.map((day) => poquan.feedback.listVotes(day)))).flat();
}

/**
 * The whole vote record for a 👍 / 👎 on an answer from the fake model about the mini knowledge's founder
 * passage: what the adapter knows (`fields`) plus everything copied from the answer, with the user hashed.
 */
export function expectedVote(fields: {
  answerId: unknown;
  platform: string;
  conversationId: string;
  question: string;
  knowledgeVersion: string;
  vote: Vote;
}): VoteRecord {
  return {
    ...fields,
    answerId: fields.answerId as string,
    passageIds: ['mini#deepseek-s-founder-1'],
    mode: 'llm',
    model: 'deepseek-flash',
    provider: 'deepseek',
    latencyMs: expect.any(Number),
    usage: expect.objectContaining({
      promptTokens: expect.any(Number),
      completionTokens: expect.any(Number),
    }),
    cost: { amount: expect.any(Number), currency: 'USD' },
    askerHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    notCovered: false,
    incomplete: false,
    cached: false,
    deliveredAt: expect.any(Number),
    userHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    createdAt: expect.any(Number),
    updatedAt: expect.any(Number),
  };
}
