/**
 * The soak's outside world, in a child process of `bench/soak/soak.ts`: the fake model (which keeps every prompt
 * it receives), the fake Telegram Bot API delivering updates to the webhook as Telegram does (one at a time, and
 * again after a failed or unanswered POST), the fake Discord, and the people in 200 chats who ask questions one
 * after another, wait for the reply, and ask again. Faults are injected at random as questions are asked. The
 * Poquan processes under test are the parent's; this process only talks to them through the fakes. Started with
 * an IPC channel; not run by hand.
 */
import { performance } from 'node:perf_hooks';
import type { APIMessage, APIUser } from 'discord.js';
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
  type StoredMessage,
  startFakeTelegram,
  type TelegramErrorBody,
  telegramErrors,
} from '../../test/fakes/fake-telegram.ts';
import { qaFile } from '../inputs.ts';
import { createRandom } from '../synthetic-corpus.ts';
import {
  type AskedQuestion,
  isDiscordPreview,
  isTelegramPreview,
  type ModelPrompt,
  type QuestionKind,
  questionsIn,
  questionTag,
  readPrompt,
  type SoakPlan,
} from './plan.ts';

/** The parent's requests; the plan itself comes as the first argument, JSON. */
export type WorldRequest =
  | { type: 'run' }
  /** Users stop asking on Discord (the bot is about to go offline) until `resume-discord`. */
  | { type: 'pause-discord' }
  | { type: 'resume-discord' }
  | { type: 'report' }
  | { type: 'close' };

/** What the world tells the parent. */
export type WorldMessage =
  | {
      type: 'ready';
      llmUrl: string;
      telegram: { url: string; token: string };
      discord: { token: string; applicationId: string; apiBase: string };
    }
  /** After every question asked and every question settled or given up on. */
  | { type: 'tally'; questionsAsked: number; questionsDone: number }
  | { type: 'progress'; questionsDone: number }
  | { type: 'discord-paused' }
  | { type: 'finished'; wallMs: number }
  | {
      type: 'report';
      questions: AskedQuestion[];
      prompts: ModelPrompt[];
      injected: Record<string, number>;
      webhookDeliveries: { total: number; failed: number };
    };

const send = (message: WorldMessage) => process.send?.(message);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The model streams a grounded answer of a few hundred characters over about a second. */
const modelReply: FakeReply = { chunkChars: 12, chunkDelayMs: 20 };
/** How long the fake Telegram waits before re-posting an update whose POST failed or went unanswered. */
const webhookRetryMs = 500;

const plan = JSON.parse(process.argv[2] ?? '') as SoakPlan;
/** How often progress is reported, in questions: the parent samples the bots' heaps at each report. */
const progressEvery = Math.max(10, Math.round(questionsIn(plan) / 10));
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
const telegram = await startFakeTelegram({ token: '7000001:SOAK-telegram-token', webhookRetryMs });
const discord = await startFakeDiscord({ token: 'SOAK-discord-token', guilds: [guild] });

const questions: AskedQuestion[] = [];
/**
 * Where to find each question's replies: its Telegram message, or when and how it was asked on Discord (and, for
 * a private question, whom a fallback DM would go to).
 */
const sources = new Map<
  AskedQuestion,
  { telegramMessageId?: number; since: number; token?: string; dmTo?: string }
>();
const injected: Record<string, number> = {};
const count = (kind: string) => {
  injected[kind] = (injected[kind] ?? 0) + 1;
};
/** When the run began (the parent's `run`); times in the report count from here. */
let started = performance.now();
const now = () => performance.now() - started;
let nextQuestion = 1;
const nextId = () => `q${String(nextQuestion++).padStart(4, '0')}`;

/** Closed while the Discord process is down: users wait for the bot to come back before asking there. */
let discordOpen: Promise<void> = Promise.resolve();
/** How long after Discord users stop asking its process is killed: time for the last question to be read. */
const discordSettleMs = 500;
let reopenDiscord: (() => void) | undefined;

/** Last call or request touching each chat (Telegram chat id, Discord channel id or interaction token). */
const lastActivity = new Map<string, number>();
/** Messages the bot created on Discord, by channel id and by interaction token (follow-ups), in order. */
const discordPosts = new Map<string, Array<{ at: number; messageId: string }>>();
/** The DM channel the bot opened with each user (where a private answer falls back to). */
const dmChannelOf = new Map<string, string>();
/** Interaction tokens expired by a fault: Discord shows "the application did not respond", no bot can edit them. */
const expiredTokens = new Set<string>();
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
    if (request.path === '/users/@me/channels' && request.status < 400 && request.response?.id) {
      dmChannelOf.set(String(request.body?.recipient_id), String(request.response.id));
    }
    if (request.method === 'POST' && request.status < 400 && postedTo && request.response?.id) {
      const posts = discordPosts.get(postedTo) ?? [];
      posts.push({ at: request.at, messageId: String(request.response.id) });
      discordPosts.set(postedTo, posts);
    }
  }
}
/**
 * Deletes an interaction's original response soon after there is one (within 5 s), if it is still in progress:
 * a finished answer someone deleted is gone for everyone, and no bot should post it again.
 */
async function deleteOriginalOnceShown(token: string): Promise<void> {
  await waitUntil(() => discord.originalMessage(token) !== undefined, 5000);
  await delay(200);
  const original = discord.originalMessage(token);
  if (original && isDiscordPreview(original.content)) discord.messages.delete(original.id);
}

const quietFor = (key: string) => performance.now() - (lastActivity.get(key) ?? 0);

/** Discord's window for a bot to acknowledge an interaction; after it, the asker is told it did not respond. */
const acknowledgeWindowMs = 3000;

/** Resolves once every `/ask` sent so far has been acknowledged (or refused: too late), or is past its window. */
function untilAsksAcknowledged(): Promise<boolean> {
  const awaited = () =>
    [...sources.values()].filter(
      ({ token, since }) => token !== undefined && performance.now() - since < acknowledgeWindowMs,
    );
  return waitUntil(
    () => awaited().every(({ token }) => discord.requests.some((r) => r.path.endsWith(`/${token}/callback`))),
    acknowledgeWindowMs,
  );
}

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

/** Telegram faults on the next Bot API call of any chat (webhook mode: there is no `getUpdates` to fail). */
const telegramFaults: Array<[string, string, TelegramErrorBody | 'disconnect']> = [
  ['telegram 429 retry_after 1', '*', telegramErrors.tooManyRequests(1)],
  ['telegram 500', '*', telegramErrors.serverError()],
  ['telegram connection dropped', '*', 'disconnect'],
];

/** Discord faults on the next matching REST call of any channel. */
const discordFaults: Array<[string, string, FakeResponse]> = [
  ['discord 429 on editing a reply', 'PATCH /webhooks/*/*/messages/@original', rateLimited(1)],
  ['discord 500 on editing a reply', 'PATCH /webhooks/*/*/messages/@original', discordErrors.serverError()],
  ['discord 429 on a channel message', 'POST /channels/*/messages', rateLimited(1)],
  ['discord 500 on a channel message', 'POST /channels/*/messages', discordErrors.serverError()],
];

/** Share of a Discord channel's turns asked with `/ask private:true`, as an @mention, and as a reply. */
const discordMix = { private: 0.2, mention: 0.2, reply: 0.2 };

async function run(): Promise<void> {
  started = performance.now();
  const random = createRandom(plan.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = ([low, high]: [number, number]) => low + random() * (high - low);
  const qa = await readQaFile(qaFile);
  let done = 0;
  const tally = () => send({ type: 'tally', questionsAsked: questions.length, questionsDone: done });

  /** A question from the fixture, tagged with a new id. */
  const draw = () => {
    const { q, lang } = pick(qa);
    const id = nextId();
    return {
      id,
      text: `${q} ${questionTag(id)}`,
      language: lang === 'zh' ? ('zh' as const) : ('en' as const),
    };
  };

  const ask = (fields: Omit<AskedQuestion, 'askedAt' | 'finalReplies' | 'frozenPreviews'>) => {
    const question: AskedQuestion = { ...fields, askedAt: now(), finalReplies: [], frozenPreviews: [] };
    questions.push(question);
    tally();
    return question;
  };

  /** Injects this question's faults, each with probability `faultRate`; returns their names. */
  const injectFaults = (platform: 'telegram' | 'discord', interactionToken?: string): string[] => {
    const faults: string[] = [];
    if (random() < plan.faultRate) {
      const [name, reply] = pick(modelFaults);
      llm.enqueue(reply);
      faults.push(name);
    }
    if (random() < plan.faultRate) {
      const roll = random();
      if (platform === 'telegram') {
        const [name, method, error] = pick(telegramFaults);
        telegram.failNext(method, 1, error);
        faults.push(name);
      } else if (interactionToken && roll < 0.25) {
        // The token dies while the answer streams, as after Discord's 15 minutes.
        const token = interactionToken;
        setTimeout(() => {
          discord.expireInteraction(token);
          expiredTokens.add(token);
        }, 300);
        faults.push('discord interaction token expired');
      } else if (interactionToken && roll < 0.5) {
        // Someone deletes the reply while it streams: Discord then answers 10008 to every edit of it.
        void deleteOriginalOnceShown(interactionToken);
        faults.push('discord reply deleted while streaming');
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
    tally();
    if (done % progressEvery === 0) send({ type: 'progress', questionsDone: done });
  };

  const askTelegram = async (chat: FakeChat, index: number) => {
    const { id, text: tagged, language } = draw();
    const text = chat.type === 'private' ? tagged : `@${telegram.bot.username} ${tagged}`;
    // Two members take turns in each group, so each asks several questions there and their budget binds.
    const userId = chat.type === 'private' ? chat.id : 10_000 + (-1_005_000_000 - chat.id) * 2 + (index % 2);
    const from = { id: userId, is_bot: false, first_name: `User ${userId}`, language_code: language };
    const question = ask({
      id,
      chat: `telegram:${chat.type === 'private' ? 'private' : 'group'}:${chat.id}`,
      asker: `telegram:${userId}`,
      kind: chat.type === 'private' ? 'telegram-private' : 'telegram-group',
      index,
      language,
      faults: injectFaults('telegram'),
    });
    const asked = telegram.pushMessage({ chat, from, text });
    const updateId = telegram.pendingUpdates().at(-1)?.update_id;
    sources.set(question, { telegramMessageId: asked.message_id, since: performance.now() });
    const key = `t:${chat.id}`;
    const replies = () =>
      telegram
        .botMessages(chat.id)
        .filter((m) => m.message_id > asked.message_id && !isTelegramPreview(telegramView(m)));
    // An answer is final with its vote buttons; an error sentence once the chat has been quiet a while. A
    // preview left by a killed process is no reply: the user keeps waiting.
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

  /**
   * One Discord chat. In a channel two users take turns: `/ask`, `/ask private:true`, an @mention, or a reply
   * to the other user's latest public answer (which continues a conversation, and must not reach anyone's
   * private one). In a DM one user writes.
   */
  const discordPlace = async (place: Place, users: APIUser[]) => {
    const isDm = 'dmChannelId' in place;
    const channelId = isDm ? place.dmChannelId : place.channel.id;
    /** Each user's latest public answer message, for the other user to reply to. */
    const publicAnswers = new Map<string, APIMessage>();
    await delay(random() * plan.startSpreadMs);
    for (let i = 0; i < plan.questionsPerChat; i++) {
      await discordOpen;
      const user = users[i % users.length] as APIUser;
      const other = users.find((u) => u.id !== user.id);
      const { id, text, language } = draw();
      const roll = random();
      const replyTo = other ? publicAnswers.get(other.id) : undefined;
      const kind: QuestionKind = isDm
        ? 'discord-dm'
        : roll < discordMix.private
          ? 'discord-ask-private'
          : roll < discordMix.private + discordMix.mention
            ? 'discord-mention'
            : roll < discordMix.private + discordMix.mention + discordMix.reply && replyTo
              ? 'discord-reply'
              : 'discord-ask';
      const question = ask({
        id,
        chat: `discord:${isDm ? 'dm' : 'channel'}:${channelId}`,
        asker: `discord:${user.id}`,
        kind,
        index: i,
        language,
        faults: [],
      });
      const since = performance.now();
      let token: string | undefined;
      if (kind === 'discord-ask' || kind === 'discord-ask-private') {
        token = discord.sendSlashCommand({
          place,
          user,
          name: 'ask',
          options: { question: text, ...(kind === 'discord-ask-private' ? { private: true } : {}) },
          locale: language === 'zh' ? 'zh-CN' : 'en-US',
        }).token;
      } else if (kind === 'discord-mention') {
        discord.sendUserMessage({
          place,
          author: user,
          content: `<@${discord.botUser.id}> ${text}`,
          mentions: [discord.botUser],
        });
      } else if (kind === 'discord-reply') {
        discord.sendUserMessage({ place, author: user, content: text, ...(replyTo ? { replyTo } : {}) });
      } else {
        discord.sendUserMessage({ place, author: user, content: text });
      }
      const dmTo = kind === 'discord-ask-private' ? user.id : undefined;
      sources.set(question, { since, ...(token ? { token } : {}), ...(dmTo ? { dmTo } : {}) });
      question.faults = injectFaults('discord', token);
      const shown = () => discordVisible(channelId, since, Number.POSITIVE_INFINITY, token, dmTo);
      const settled = await waitUntil(() => {
        const messages = shown();
        if (messages.length === 0 || messages.every((message) => isDiscordPreview(message.content)))
          return false;
        return quietFor(`d:${channelId}`) > 1500 && (!token || quietFor(`d:${token}`) > 1500);
      }, plan.questionTimeoutMs);
      const answer = shown().findLast((message) => !isDiscordPreview(message.content));
      if (answer && kind !== 'discord-ask-private' && !isDm) publicAnswers.set(user.id, answer);
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
      discordPlace({ guild, channel }, [
        fakeUser({ username: `asker${i}a` }),
        fakeUser({ username: `asker${i}b` }),
      ]),
    ),
    ...Array.from({ length: plan.discordDms }, (_, i) => {
      const user = fakeUser({ username: `dm-user${i}` });
      return discordPlace(discord.dmWith(user), [user]);
    }),
  ];
  await Promise.all(runs);
  send({ type: 'finished', wallMs: now() });
}

/** A Telegram message as the preview check reads it. */
const telegramView = (message: StoredMessage) => ({
  text: message.text,
  hasButtons: Boolean(message.reply_markup?.inline_keyboard.length),
});

/**
 * What a Discord user sees for one question asked at `since` (performance time): the interaction's original
 * response (unless its token expired while it was still in progress: Discord then shows that the application
 * did not respond, and no bot can change it) and follow-ups, and any message the bot posted before `until` in the
 * channel (an answer that fell back from an interaction, or the reply to a message) or, for a private question,
 * in the asker's DM; each as it reads now; deleted messages are gone.
 */
function discordVisible(
  channelId: string,
  since: number,
  until: number,
  token?: string,
  dmTo?: string,
): APIMessage[] {
  scanActivity();
  const current = token ? discord.originalMessage(token) : undefined;
  const original =
    current && token && expiredTokens.has(token) && isDiscordPreview(current.content) ? undefined : current;
  const dm = dmTo ? dmChannelOf.get(dmTo) : undefined;
  const posts = [
    ...(token ? (discordPosts.get(token) ?? []) : []),
    ...(discordPosts.get(channelId) ?? []),
    ...(dm ? (discordPosts.get(dm) ?? []) : []),
  ];
  return [
    ...(original ? [original] : []),
    ...posts
      .filter((post) => post.at >= since && post.at < until && post.messageId !== current?.id)
      .sort((a, b) => a.at - b.at)
      .flatMap((post) => discord.messages.get(post.messageId) ?? []),
  ];
}

/**
 * Fills in every question's final replies and frozen previews from what the chats show now, after the bots have
 * stopped. On Telegram a bot message belongs to the question it replies to, else to the latest question asked
 * before it; on Discord to the interaction, or to the question asked last before it was posted.
 */
function collectReplies(): void {
  const byChat = new Map<string, AskedQuestion[]>();
  for (const question of questions)
    byChat.set(question.chat, [...(byChat.get(question.chat) ?? []), question]);
  for (const [chat, asked] of byChat) {
    const [platform, , id = ''] = chat.split(':');
    if (platform === 'telegram') {
      const byMessage = new Map(asked.map((q) => [sources.get(q)?.telegramMessageId ?? 0, q]));
      const ordered = [...byMessage.keys()].sort((a, b) => a - b);
      for (const message of telegram.botMessages(Number(id))) {
        const ownerId =
          message.reply_to_message_id !== undefined && byMessage.has(message.reply_to_message_id)
            ? message.reply_to_message_id
            : ordered.findLast((questionId) => questionId < message.message_id);
        const owner = ownerId === undefined ? undefined : byMessage.get(ownerId);
        if (!owner) continue;
        if (isTelegramPreview(telegramView(message))) owner.frozenPreviews.push(message.text);
        else owner.finalReplies.push(message.text);
      }
      continue;
    }
    asked.forEach((question, i) => {
      const own = sources.get(question);
      const next = sources.get(asked[i + 1] as AskedQuestion);
      if (!own) return;
      if (own.token) {
        const callback = `/${own.token}/callback`;
        question.acknowledged = discord.requests.some((r) => r.path.endsWith(callback) && r.status < 400);
      }
      for (const message of discordVisible(
        id,
        own.since,
        next?.since ?? Number.POSITIVE_INFINITY,
        own.token,
        // A private answer whose interaction can no longer be used goes to the asker by DM.
        question.kind === 'discord-ask-private' ? question.asker.split(':')[1] : undefined,
      )) {
        if (isDiscordPreview(message.content)) question.frozenPreviews.push(message.content);
        else question.finalReplies.push(message.content);
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
  } else if (request.type === 'pause-discord') {
    discordOpen = new Promise((resolve) => {
      reopenDiscord = resolve;
    });
    // A question sent in the last instant before the kill reaches a process that has not yet read it, and
    // Discord never redelivers an event to a new session: the kill waits until what was sent has arrived. An
    // /ask a loaded process has not acknowledged yet is lost to any bot if it dies now (Discord tells the asker
    // the application did not respond): the kill also waits for each acknowledgement, or the end of its window.
    setTimeout(
      () => void untilAsksAcknowledged().then(() => send({ type: 'discord-paused' })),
      discordSettleMs,
    );
  } else if (request.type === 'resume-discord') {
    reopenDiscord?.();
  } else if (request.type === 'report') {
    collectReplies();
    send({
      type: 'report',
      questions,
      prompts: llm.requests.map((request) =>
        readPrompt((request.body?.messages ?? []) as Array<{ role: string; content: unknown }>),
      ),
      injected,
      webhookDeliveries: {
        total: telegram.webhookDeliveries.length,
        failed: telegram.webhookDeliveries.filter((d) => d.status < 200 || d.status >= 300).length,
      },
    });
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
