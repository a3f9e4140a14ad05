/**
 * The soak's outside world, in a child process of `bench/soak/soak.ts`: the fake model, the fake Telegram Bot
 * API and the fake Discord, and the people in 200 chats who ask questions one after another, wait for the
 * reply, and ask again. Faults are injected at random as questions are asked. Living in its own process keeps
 * the fakes' recordings out of the bot's memory readings. Started with an IPC channel; not run by hand.
 */
import { performance } from 'node:perf_hooks';
import type { APIUser } from 'discord.js';
import { readQaFile } from '../../src/core/evaluate.ts';
import {
  discordErrors,
  type FakeResponse,
  rateLimited,
  startFakeDiscord,
} from '../../test/fakes/fake-discord.ts';
import { type FakeGuild, fakeUser, type Place, snowflake } from '../../test/fakes/fake-discord-fixtures.ts';
import { type FakeReply, startFakeLlm } from '../../test/fakes/fake-llm.ts';
import {
  type FakeChat,
  startFakeTelegram,
  type TelegramErrorBody,
  telegramError,
  telegramErrors,
} from '../../test/fakes/fake-telegram.ts';
import { qaFile } from '../inputs.ts';
import { createRandom } from '../synthetic-corpus.ts';
import type { AskedQuestion, SoakPlan } from './plan.ts';

/** The parent's requests; the plan itself comes as the first argument, JSON. */
export type WorldRequest = { type: 'run' } | { type: 'report' } | { type: 'close' };

/** What the world tells the parent. */
export type WorldMessage =
  | {
      type: 'ready';
      llmUrl: string;
      telegram: { url: string; token: string };
      discord: { token: string; applicationId: string; apiBase: string };
    }
  | { type: 'progress'; questionsDone: number }
  | { type: 'finished'; wallMs: number }
  | { type: 'report'; questions: AskedQuestion[]; injected: Record<string, number>; modelRequests: number };

const send = (message: WorldMessage) => process.send?.(message);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How often progress is reported, in questions: the parent samples the bot's heap at each report. */
const progressEvery = 100;
/** The model streams a grounded answer of a few hundred characters over about a second. */
const modelReply: FakeReply = { chunkChars: 12, chunkDelayMs: 20 };

/** A Discord reply still being written: deferred and empty, "thinking…", or text with the cursor. */
const inProgressOnDiscord = (content: string) =>
  content === '' || /^-# 💭 (?:Thinking|思考中)…/.test(content) || content.endsWith('▌');

const plan = JSON.parse(process.argv[2] ?? '') as SoakPlan;
const guild: FakeGuild = {
  id: snowflake(),
  name: 'Soak',
  channels: Array.from({ length: plan.discordChannels }, (_, i) => ({
    id: snowflake(),
    name: `soak-${i}`,
    type: 0 as const,
  })),
};
const llm = await startFakeLlm({ defaultReply: modelReply });
const telegram = await startFakeTelegram({ token: '7000001:SOAK-telegram-token' });
const discord = await startFakeDiscord({ token: 'SOAK-discord-token', guilds: [guild] });

const questions: AskedQuestion[] = [];
/** Where to find each question's replies: its Telegram message, or when and how it was asked on Discord. */
const sources = new Map<AskedQuestion, { telegramMessageId?: number; since: number; token?: string }>();
const injected: Record<string, number> = {};
const count = (kind: string) => {
  injected[kind] = (injected[kind] ?? 0) + 1;
};
const started = performance.now();
const now = () => performance.now() - started;

/** Last call or request touching each chat (Telegram chat id, Discord channel id or interaction token). */
const lastActivity = new Map<string, number>();
/** Messages the bot created on Discord, by channel id and by interaction token (follow-ups), in order. */
const discordPosts = new Map<string, Array<{ at: number; messageId: string }>>();
let telegramCursor = 0;
let discordCursor = 0;
/** Folds the fakes' new recordings into `lastActivity` and `discordPosts`; each recording is read once. */
function scanActivity(): void {
  for (; telegramCursor < telegram.calls.length; telegramCursor++) {
    const call = telegram.calls[telegramCursor];
    if (call?.body?.chat_id !== undefined) lastActivity.set(`t:${call.body.chat_id}`, call.at);
  }
  for (; discordCursor < discord.requests.length; discordCursor++) {
    const request = discord.requests[discordCursor];
    if (!request) continue;
    const channel = /^\/channels\/(\d+)\//.exec(request.path)?.[1];
    if (channel) lastActivity.set(`d:${channel}`, request.at);
    const token = /^\/(?:webhooks|interactions)\/\d+\/([^/]+)/.exec(request.path)?.[1];
    if (token) lastActivity.set(`d:${token}`, request.at);
    // A channel message, or a follow-up to an interaction (POST /webhooks/<app>/<token>).
    const postedTo =
      /^\/channels\/(\d+)\/messages$/.exec(request.path)?.[1] ??
      /^\/webhooks\/\d+\/([^/]+)$/.exec(request.path)?.[1];
    if (request.method === 'POST' && request.status < 400 && postedTo && request.response?.id) {
      const posts = discordPosts.get(postedTo) ?? [];
      posts.push({ at: request.at, messageId: String(request.response.id) });
      discordPosts.set(postedTo, posts);
    }
  }
}
const quietFor = (key: string) => performance.now() - (lastActivity.get(key) ?? 0);

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; resolves whether it held. */
async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    scanActivity();
    if (check()) return true;
    if (performance.now() > deadline) return false;
    await delay(50);
  }
}

/** The model faults of issue 7, one picked per injection. */
const modelFaults: Array<[string, FakeReply]> = [
  ['model 500', { status: 500 }],
  ['model 503 with Retry-After', { status: 503, retryAfter: 1 }],
  ['model 429 with Retry-After', { status: 429, retryAfter: 1 }],
  ['model 429 without Retry-After', { status: 429 }],
  ['model malformed SSE', { ...modelReply, malformed: true }],
  ['model stream cut mid-answer', { ...modelReply, cutAfterChunks: 6 }],
  ['model empty answer', { content: '' }],
  ['model timeout (no response)', { hang: true }],
];

/** Telegram faults on the next Bot API call of any chat (or on the next getUpdates). */
const telegramFaults: Array<[string, string, TelegramErrorBody | 'disconnect']> = [
  ['telegram 429 retry_after 1', '*', telegramErrors.tooManyRequests(1)],
  ['telegram 500', '*', telegramErrors.serverError()],
  ['telegram 502 on getUpdates', 'getUpdates', telegramError(502, 'Bad Gateway')],
  ['telegram connection dropped', '*', 'disconnect'],
];

/** Discord faults on the next matching REST call of any channel. */
const discordFaults: Array<[string, string, FakeResponse]> = [
  ['discord 429 on editing a reply', 'PATCH /webhooks/*/*/messages/@original', rateLimited(1)],
  ['discord 500 on editing a reply', 'PATCH /webhooks/*/*/messages/@original', discordErrors.serverError()],
  ['discord reply deleted (10008)', 'PATCH /webhooks/*/*/messages/@original', discordErrors.unknownMessage()],
  ['discord 429 on a channel message', 'POST /channels/*/messages', rateLimited(1)],
  ['discord 500 on a channel message', 'POST /channels/*/messages', discordErrors.serverError()],
];

async function run(): Promise<void> {
  const random = createRandom(plan.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = ([low, high]: [number, number]) => low + random() * (high - low);
  const qa = await readQaFile(qaFile);
  let done = 0;

  /** Injects this question's faults, each with probability `faultRate`; returns their names. */
  const injectFaults = (platform: 'telegram' | 'discord', interactionToken?: string): string[] => {
    const faults: string[] = [];
    if (random() < plan.faultRate) {
      const [name, reply] = pick(modelFaults);
      llm.enqueue(reply);
      faults.push(name);
    }
    if (random() < plan.faultRate) {
      if (platform === 'telegram') {
        const [name, method, error] = pick(telegramFaults);
        telegram.failNext(method, 1, error);
        faults.push(name);
      } else if (interactionToken && random() < 0.25) {
        // The token dies while the answer streams, as after Discord's 15 minutes.
        const token = interactionToken;
        setTimeout(() => discord.expireInteraction(token), 300);
        faults.push('discord interaction token expired');
      } else {
        const [name, pattern, response] = pick(discordFaults);
        discord.failNext(pattern, 1, response);
        faults.push(name);
      }
    }
    for (const fault of faults) count(fault);
    return faults;
  };

  const finishQuestion = (question: AskedQuestion, settled: boolean) => {
    if (settled) question.settledAt = now();
    done++;
    if (done % progressEvery === 0) send({ type: 'progress', questionsDone: done });
  };

  const askTelegram = async (chat: FakeChat, index: number) => {
    const { q, lang: qaLanguage } = pick(qa);
    const lang = qaLanguage === 'zh' ? 'zh' : 'en';
    const text = chat.type === 'private' ? q : `@${telegram.bot.username} ${q}`;
    // Two members take turns in each group, so each asks several questions there and their budget binds.
    const userId = chat.type === 'private' ? chat.id : 10_000 + (-1_005_000_000 - chat.id) * 2 + (index % 2);
    const from = { id: userId, is_bot: false, first_name: `User ${userId}`, language_code: lang };
    const question: AskedQuestion = {
      chat: `telegram:${chat.type === 'private' ? 'private' : 'group'}:${chat.id}`,
      index,
      language: lang,
      askedAt: now(),
      finalReplies: [],
      faults: injectFaults('telegram'),
    };
    questions.push(question);
    const asked = telegram.pushMessage({ chat, from, text });
    const updateId = telegram.pendingUpdates().at(-1)?.update_id;
    sources.set(question, { telegramMessageId: asked.message_id, since: performance.now() });
    const key = `t:${chat.id}`;
    const replies = () => telegram.botMessages(chat.id).filter((m) => m.message_id > asked.message_id);
    // An answer is final with its vote buttons; an error sentence once the chat has been quiet a while.
    const settled = await waitUntil(() => {
      const sent = replies();
      if (sent.length === 0) return false;
      const quiet = quietFor(key);
      return (sent.some((m) => m.reply_markup) && quiet > 500) || quiet > 5000;
    }, plan.questionTimeoutMs);
    const deliveredAt = updateId === undefined ? undefined : telegram.deliveredAt(updateId);
    if (deliveredAt !== undefined) question.deliveredAt = deliveredAt - started;
    finishQuestion(question, settled);
  };

  const telegramChat = async (chat: FakeChat) => {
    await delay(random() * plan.startSpreadMs);
    for (let i = 0; i < plan.questionsPerChat; i++) {
      await askTelegram(chat, i);
      await delay(between(plan.thinkMs));
    }
  };

  const discordPlace = async (place: Place, user: APIUser, useSlash: boolean) => {
    const fake = discord;
    const channelId = 'dmChannelId' in place ? place.dmChannelId : place.channel.id;
    await delay(random() * plan.startSpreadMs);
    for (let i = 0; i < plan.questionsPerChat; i++) {
      const { q, lang: qaLanguage } = pick(qa);
      const lang = qaLanguage === 'zh' ? 'zh' : 'en';
      const question: AskedQuestion = {
        chat: `discord:${useSlash ? 'channel' : 'dm'}:${channelId}`,
        index: i,
        language: lang,
        askedAt: now(),
        finalReplies: [],
        faults: [],
      };
      questions.push(question);
      const since = performance.now();
      let token: string | undefined;
      if (useSlash) {
        token = fake.sendSlashCommand({
          place,
          user,
          name: 'ask',
          options: { question: q },
          locale: lang === 'zh' ? 'zh-CN' : 'en-US',
        }).token;
      } else {
        fake.sendUserMessage({ place, author: user, content: q });
      }
      sources.set(question, { since, ...(token ? { token } : {}) });
      question.faults = injectFaults('discord', token);
      const visible = () => discordVisible(channelId, since, Number.POSITIVE_INFINITY, token);
      const settled = await waitUntil(() => {
        const texts = visible();
        if (texts.length === 0 || texts.every(inProgressOnDiscord)) return false;
        return quietFor(`d:${channelId}`) > 1500 && (!token || quietFor(`d:${token}`) > 1500);
      }, plan.questionTimeoutMs);
      finishQuestion(question, settled);
      await delay(between(plan.thinkMs));
    }
  };

  const telegramChats: FakeChat[] = [
    ...Array.from(
      { length: plan.telegramPrivateChats },
      (_, i): FakeChat => ({ id: 5_000_000 + i, type: 'private', first_name: `User ${i}` }),
    ),
    ...Array.from(
      { length: plan.telegramGroups },
      (_, i): FakeChat => ({ id: -1_005_000_000 - i, type: 'supergroup', title: `Group ${i}` }),
    ),
  ];
  const runs = [
    ...telegramChats.map((chat) => telegramChat(chat)),
    ...guild.channels.map((channel, i) =>
      discordPlace({ guild, channel }, fakeUser({ username: `asker${i}` }), true),
    ),
    ...Array.from({ length: plan.discordDms }, (_, i) => {
      const user = fakeUser({ username: `dm-user${i}` });
      return discordPlace(discord.dmWith(user), user, false);
    }),
  ];
  await Promise.all(runs);
  send({ type: 'finished', wallMs: now() });
}

/**
 * What a Discord user sees for one question asked at `since` (performance time): the interaction's original
 * response and follow-ups, and any message the bot posted in the channel before `until` (an answer that fell
 * back from an interaction, or the reply to a DM), each as it reads now.
 */
function discordVisible(channelId: string, since: number, until: number, token?: string): string[] {
  scanActivity();
  const original = token ? discord.originalMessage(token) : undefined;
  const posts = [...(token ? (discordPosts.get(token) ?? []) : []), ...(discordPosts.get(channelId) ?? [])];
  return [
    ...(original ? [original.content] : []),
    ...posts
      .filter((post) => post.at >= since && post.at < until)
      .sort((a, b) => a.at - b.at)
      .flatMap((post) => discord.messages.get(post.messageId)?.content ?? []),
  ];
}

/** Fills in every question's final replies from what the chats show now, after the bot has stopped. */
function collectReplies(): void {
  const byChat = new Map<string, AskedQuestion[]>();
  for (const question of questions)
    byChat.set(question.chat, [...(byChat.get(question.chat) ?? []), question]);
  for (const [chat, asked] of byChat) {
    const [platform, , id = ''] = chat.split(':');
    asked.forEach((question, i) => {
      const own = sources.get(question);
      const next = sources.get(asked[i + 1] as AskedQuestion);
      if (!own) return;
      if (platform === 'telegram') {
        const from = own.telegramMessageId ?? Number.POSITIVE_INFINITY;
        const to = next?.telegramMessageId ?? Number.POSITIVE_INFINITY;
        question.finalReplies = telegram
          .botMessages(Number(id))
          .filter((m) => m.message_id > from && m.message_id < to)
          .map((m) => m.text);
      } else {
        question.finalReplies = discordVisible(
          id,
          own.since,
          next?.since ?? Number.POSITIVE_INFINITY,
          own.token,
        ).filter((text) => !inProgressOnDiscord(text));
      }
    });
  }
}

process.on('message', (request: WorldRequest) => {
  if (request.type === 'run') {
    void run().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  } else if (request.type === 'report') {
    collectReplies();
    send({ type: 'report', questions, injected, modelRequests: llm.requests.length });
  } else {
    void Promise.all([llm.close(), telegram.close(), discord.close()]).then(() => process.disconnect());
  }
});

send({
  type: 'ready',
  llmUrl: llm.url,
  telegram: { url: telegram.url, token: telegram.token },
  discord: { token: discord.token, applicationId: discord.applicationId, apiBase: discord.apiBase },
});
