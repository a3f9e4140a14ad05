import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { APIMessage } from 'discord.js';
import { describe, expect } from 'vitest';
import { contextConversationId } from '../../src/adapters/discord/conversations.ts';
import type { InFlightAnswer } from '../../src/adapters/discord/in-flight.ts';
import { createTokenSeal } from '../../src/adapters/discord/token-seal.ts';
import { createConversationMemory } from '../../src/core/memory.ts';
import { storeKeys } from '../../src/core/store-keys.ts';
import { openStore } from '../../src/store/open-store.ts';
import { type FakeDiscord, startFakeDiscord } from '../fakes/fake-discord.ts';
import { channelIdOf, fakeUser, snowflake, userMessage } from '../fakes/fake-discord-fixtures.ts';
import { askedQuestion, type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import { type PoquanProcess, startPoquanProcess } from '../servers/poquan-process.ts';
import { type Cleanups, groundedAnswer, startDiscordHarness, until } from './harness.ts';

/**
 * A Discord process killed with SIGKILL in the middle of its answers leaves nothing frozen: every deferred
 * `/ask` (public and `private:true`) and every reply to a mention it was writing is finished by the next
 * process on the same store — in its own conversation, with the frozen preview replaced — or, once Discord's
 * 15-minute interaction token is too old, ended with a sentence wherever Discord still lets the bot edit.
 * The real `poquan start` runs as child processes against the fake Discord and a model that stalls mid-answer.
 */

const asker = fakeUser({ username: 'asker' });
const mentioner = fakeUser({ username: 'mentioner' });
const questions = {
  public: 'Who founded DeepSeek?',
  private: 'Did Liang finance DeepSeek himself?',
  mention: 'Who founded High-Flyer?',
};
const interrupted =
  '⚠️ Poquan restarted before it could finish this answer, and it is too late to finish it now. Please ask again.';

/** A live preview: "thinking…", or text still being written (with the cursor). */
const isPreview = (content: string) => content.startsWith('-# 💭 Thinking') || content.endsWith('▌');

async function setUp(cleanups: Cleanups, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-discord-resume-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const discord = await startFakeDiscord();
  cleanups.push(() => discord.close());
  const llm = await startFakeLlm();
  cleanups.push(() => llm.close());
  const storeUrl = `sqlite://${join(dir, 'poquan.sqlite')}`;
  const start = async (): Promise<PoquanProcess> => {
    const bot = startPoquanProcess(
      {
        DISCORD_TOKEN: discord.token,
        DISCORD_APPLICATION_ID: discord.applicationId,
        DISCORD_API_BASE: discord.apiBase,
        LLM_BASE_URL: llm.url,
        LLM_API_KEY: 'sk-discord-resume-test',
        LLM_MAX_RETRIES: '0',
        STORE_URL: storeUrl,
        KNOWLEDGE_DIR: resolve('test/fixtures/knowledge-mini'),
        ANSWER_CACHE_TTL_HOURS: '0',
        RATE_LIMIT_PER_MINUTE: '0',
        SHOW_REASONING: 'off',
        LOG_LEVEL: 'info',
        ...env,
      },
      dir,
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    await bot.waitForLog((entry) => entry.msg === 'discord adapter ready', 60_000);
    return bot;
  };
  return { discord, llm, storeUrl, start };
}

/**
 * Asks the three questions while the model stalls after a few words, and waits until each answer shows a
 * preview that has been edited at least once (so the bot has recorded which message shows it).
 */
async function askAndFreeze(discord: FakeDiscord, llm: FakeLlm) {
  const stalled = {
    content: 'Liang Wenfeng founded DeepSeek [1]. '.repeat(6),
    chunkChars: 6,
    chunkDelayMs: 250,
  };
  llm.enqueue(
    { ...stalled, stallAfterChunks: 9 },
    { ...stalled, stallAfterChunks: 9 },
    { ...stalled, stallAfterChunks: 9 },
  );
  const publicAsk = discord.sendSlashCommand({
    place: discord.channel,
    user: asker,
    name: 'ask',
    options: { question: questions.public },
  });
  const privateAsk = discord.sendSlashCommand({
    place: discord.channel,
    user: asker,
    name: 'ask',
    options: { question: questions.private, private: true },
  });
  const mention = discord.sendUserMessage({
    place: discord.channel,
    author: mentioner,
    content: `<@${discord.botUser.id}> ${questions.mention}`,
    mentions: [discord.botUser],
  });
  const originalEdits = (token: string) =>
    discord.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith(`${token}/messages/@original`) && r.status === 200,
    ).length;
  const replyOf = () => replyTo(discord, mention);
  const replyEdits = () =>
    discord.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/messages/${replyOf()?.id}`))
      .length;
  await until(
    () =>
      llm.requests.length === 3 &&
      originalEdits(publicAsk.token) >= 2 &&
      originalEdits(privateAsk.token) >= 2 &&
      replyEdits() >= 1,
    'three answers frozen mid-stream',
    20_000,
  );
  return { publicAsk, privateAsk, mention, reply: replyOf() as APIMessage };
}

/** Asks one public /ask while the model stalls after a few words, and waits until its preview shows. */
async function askOneAndFreeze(discord: FakeDiscord, llm: FakeLlm) {
  llm.enqueue({
    content: 'Liang Wenfeng founded DeepSeek [1]. '.repeat(6),
    chunkChars: 6,
    chunkDelayMs: 250,
    stallAfterChunks: 9,
  });
  const ask = discord.sendSlashCommand({
    place: discord.channel,
    user: asker,
    name: 'ask',
    options: { question: questions.public },
  });
  await until(
    () => isPreview(discord.originalMessage(ask.token)?.content ?? '') && llm.requests.length === 1,
    'the answer frozen mid-stream',
    20_000,
  );
  return ask;
}

/** The interaction's original response once the resumed answer has finished it (it shows its sources). */
async function finishedOriginal(discord: FakeDiscord, token: string): Promise<string | undefined> {
  const content = () => discord.originalMessage(token)?.content;
  await until(() => /\n-# Sources: /.test(content() ?? ''), 'the interrupted answer to be finished', 40_000);
  return content();
}

/** The bot's replies to `message` (messages that refer to it). */
function repliesTo(discord: FakeDiscord, message: APIMessage): APIMessage[] {
  return [...discord.messages.values()].filter(
    (m) => m.author.id === discord.botUser.id && m.message_reference?.message_id === message.id,
  );
}
const replyTo = (discord: FakeDiscord, message: APIMessage) => repliesTo(discord, message)[0];

/** The questions the model was asked, from request `from` on. */
const askedFrom = (llm: FakeLlm, from: number) =>
  llm.requests.slice(from).map((request) => {
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    return askedQuestion(messages.at(-1)?.content ?? '');
  });

describe('Discord after kill -9', () => {
  it('finishes a public /ask, a private /ask and a mention reply after a restart, each once, in place', async ({
    cleanups,
  }) => {
    const { discord, llm, storeUrl, start } = await setUp(cleanups);
    const first = await start();
    const { publicAsk, privateAsk, mention, reply } = await askAndFreeze(discord, llm);
    expect(await first.stop('SIGKILL')).toBeNull();
    const frozen = [
      discord.originalMessage(publicAsk.token),
      discord.originalMessage(privateAsk.token),
      discord.messages.get(reply.id),
    ];
    for (const message of frozen) expect(isPreview(message?.content ?? '')).toBe(true);
    // Whoever copies the store file gets no interaction token that could post as the bot: they are kept sealed.
    const file = storeUrl.slice('sqlite://'.length);
    const stored = [file, `${file}-wal`].filter(existsSync).map((path) => readFileSync(path, 'latin1'));
    expect(stored.join('')).toContain(privateAsk.id);
    for (const token of [publicAsk.token, privateAsk.token]) expect(stored.join('')).not.toContain(token);

    // Two instances start on the same store: between them, each unfinished answer is resumed exactly once.
    const restartedAt = performance.now();
    await Promise.all([start(), start()]);
    const final = (message: APIMessage | undefined) => /\n-# Sources: /.test(message?.content ?? '');
    await until(
      () =>
        final(discord.originalMessage(publicAsk.token)) &&
        final(discord.originalMessage(privateAsk.token)) &&
        final(discord.messages.get(reply.id)),
      'the three interrupted answers to be finished',
      40_000,
    );
    // Longer than a look for orphans takes to come round again: a second answer to any of them would show.
    await new Promise((done) => setTimeout(done, 4000));

    expect(askedFrom(llm, 3).sort()).toEqual(Object.values(questions).sort());
    const publicOriginal = discord.originalMessage(publicAsk.token) as APIMessage;
    const privateOriginal = discord.originalMessage(privateAsk.token) as APIMessage;
    expect(publicOriginal.content).toMatch(groundedAnswer);
    expect((publicOriginal.flags ?? 0) & 64).toBe(0);
    expect(privateOriginal.content).toMatch(groundedAnswer);
    expect((privateOriginal.flags ?? 0) & 64).toBe(64);
    // The mention's frozen reply became the answer: no second reply, nothing posted beside it.
    expect(repliesTo(discord, mention).map((m) => m.id)).toEqual([reply.id]);
    expect(discord.messages.get(reply.id)?.content).toMatch(groundedAnswer);
    const posted = discord.requests.filter(
      (r) => r.at >= restartedAt && r.method === 'POST' && !r.path.endsWith('/callback'),
    );
    expect(posted.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    const botMessages = [...discord.messages.values()].filter((m) => m.author.id === discord.botUser.id);
    expect(botMessages.filter((m) => isPreview(m.content))).toEqual([]);

    // The private question went on in the asker's private conversation, not the public one.
    const store = await openStore(storeUrl);
    cleanups.push(() => store.close());
    const memory = createConversationMemory(store, { turns: 6, ttlMs: 60_000 });
    const place = { channelId: channelIdOf(discord.channel), isThread: false, isDm: false, userId: asker.id };
    const privateTurns = await memory.load(contextConversationId({ ...place, isPrivate: true }));
    const publicTurns = await memory.load(contextConversationId(place));
    expect(privateTurns.map((turn) => turn.question)).toEqual([questions.private]);
    expect(publicTurns.map((turn) => turn.question)).toEqual([questions.public]);
  }, 120_000);

  it('finishes the interrupted /ask of a user at the rate limit: the question keeps its one place', async ({
    cleanups,
  }) => {
    const { discord, llm, start } = await setUp(cleanups, { RATE_LIMIT_PER_MINUTE: '1' });
    const first = await start();
    const ask = await askOneAndFreeze(discord, llm);
    expect(await first.stop('SIGKILL')).toBeNull();

    await start();
    expect(await finishedOriginal(discord, ask.token)).toMatch(groundedAnswer);
    expect(askedFrom(llm, 1)).toEqual([questions.public]);
  }, 120_000);

  it('finishes an /ask whose process was killed once Discord had its deferral, before the bot heard back', async ({
    cleanups,
  }) => {
    const { discord, llm, storeUrl, start } = await setUp(cleanups);
    const first = await start();
    // Discord takes the deferral (the asker sees "thinking…") but its answer never reaches the process.
    const release = discord.holdNext('POST /interactions/*/*/callback');
    const ask = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: questions.public },
    });
    const store = await openStore(storeUrl);
    cleanups.push(() => store.close());
    const recorded = async () =>
      (await store.membersOf(storeKeys.discordInFlightIndex)).includes(`interaction:${ask.id}`);
    await until(
      () => discord.requests.some((r) => r.path.endsWith(`/${ask.token}/callback`)),
      'the deferral to reach Discord',
      20_000,
    );
    // The kill comes once the process has taken note of the question, while its deferral is still unanswered.
    for (let tries = 0; !(await recorded()); tries++) {
      if (tries === 100) throw new Error('the question was never recorded as in flight');
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(await first.stop('SIGKILL')).toBeNull();
    release();
    expect(discord.originalMessage(ask.token)?.content).toBe('');

    await start();
    expect(await finishedOriginal(discord, ask.token)).toMatch(groundedAnswer);
    expect(askedFrom(llm, 0)).toEqual([questions.public]);
    expect(discord.requests.filter((r) => r.method === 'POST' && r.path.includes('/messages'))).toEqual([]);
  }, 120_000);

  it('ends answers too old to finish with a sentence where Discord still allows an edit, and logs the rest', async ({
    cleanups,
  }) => {
    const { discord, llm, storeUrl, start } = await setUp(cleanups);
    const first = await start();
    const { publicAsk, privateAsk, reply } = await askAndFreeze(discord, llm);
    expect(await first.stop('SIGKILL')).toBeNull();
    const frozenPrivate = discord.originalMessage(privateAsk.token)?.content;

    // Sixteen minutes pass: the records are that old, and Discord no longer accepts the interaction tokens.
    const store = await openStore(storeUrl);
    for (const id of await store.membersOf(storeKeys.discordInFlightIndex)) {
      const key = storeKeys.discordInFlight(id);
      const record = (await store.get<InFlightAnswer>(key)) as InFlightAnswer;
      await store.set(key, { ...record, startedAt: record.startedAt - 16 * 60_000 });
    }
    await store.close();
    discord.expireInteraction(publicAsk.token);
    discord.expireInteraction(privateAsk.token);

    const second = await start();
    await until(
      () =>
        discord.originalMessage(publicAsk.token)?.content === interrupted &&
        discord.messages.get(reply.id)?.content === interrupted,
      'the public reply and the mention reply to say the answer was interrupted',
      40_000,
    );
    await second.waitForLog((entry) =>
      String(entry.msg).startsWith('an interrupted answer can no longer be reached'),
    );
    // The public reply was edited as the bot's own channel message; the ephemeral one can't be reached.
    expect(
      discord.requests.some(
        (r) =>
          r.method === 'PATCH' &&
          r.path ===
            `/channels/${channelIdOf(discord.channel)}/messages/${discord.originalMessage(publicAsk.token)?.id}`,
      ),
    ).toBe(true);
    expect(discord.originalMessage(privateAsk.token)?.content).toBe(frozenPrivate);
    expect(llm.requests).toHaveLength(3);
  }, 120_000);

  it('ends interrupted /asks whose token was sealed under an earlier bot token like expired ones', async ({
    cleanups,
  }) => {
    const { discord, llm, storeUrl, start } = await setUp(cleanups);
    const first = await start();
    const { publicAsk, privateAsk } = await askAndFreeze(discord, llm);
    expect(await first.stop('SIGKILL')).toBeNull();
    const frozenPrivate = discord.originalMessage(privateAsk.token)?.content;

    // The bot token was rotated: the records hold the interaction tokens sealed under the old one.
    const oldSeal = createTokenSeal('the bot token before it was rotated');
    const store = await openStore(storeUrl);
    for (const [id, token] of [
      [`interaction:${publicAsk.id}`, publicAsk.token],
      [`interaction:${privateAsk.id}`, privateAsk.token],
    ] as const) {
      const key = storeKeys.discordInFlight(id);
      const record = (await store.get<Record<string, unknown>>(key)) as Record<string, unknown>;
      await store.set(key, { ...record, sealedToken: oldSeal.seal(token, id) });
    }
    await store.close();

    const restartedAt = performance.now();
    const second = await start();
    await until(
      () => discord.originalMessage(publicAsk.token)?.content === interrupted,
      'the public reply to say the answer was interrupted',
      40_000,
    );
    await second.waitForLog((entry) =>
      String(entry.msg).startsWith('an interrupted answer can no longer be reached'),
    );
    // Edited as the bot's own channel message, not through the interaction webhooks; the ephemeral one is left.
    const afterRestart = discord.requests.filter((r) => r.at >= restartedAt);
    expect(
      afterRestart.some(
        (r) =>
          r.method === 'PATCH' &&
          r.path ===
            `/channels/${channelIdOf(discord.channel)}/messages/${discord.originalMessage(publicAsk.token)?.id}`,
      ),
    ).toBe(true);
    for (const token of [publicAsk.token, privateAsk.token]) {
      expect(afterRestart.filter((r) => r.path.includes(token))).toEqual([]);
    }
    expect(discord.originalMessage(privateAsk.token)?.content).toBe(frozenPrivate);
  }, 120_000);

  it('finishes an /ask left by the version before the sealing with its token in plain text, storing it only sealed', async ({
    cleanups,
  }) => {
    const { discord, llm, storeUrl, start } = await setUp(cleanups);
    const first = await start();
    const ask = await askOneAndFreeze(discord, llm);
    expect(await first.stop('SIGKILL')).toBeNull();

    // The upgrade: the record is the one the version before the sealing wrote, its interaction token in plain text.
    const id = `interaction:${ask.id}`;
    const store = await openStore(storeUrl);
    const left = (await store.get<InFlightAnswer>(storeKeys.discordInFlight(id))) as InFlightAnswer;
    await store.set(storeKeys.discordInFlight(id), {
      id,
      kind: 'interaction',
      owner: left.owner,
      startedAt: left.startedAt,
      question: questions.public,
      conversationId: left.conversationId,
      language: 'en',
      isPrivate: false,
      channelId: channelIdOf(discord.channel),
      guildId: discord.guild.id,
      userId: asker.id,
      applicationId: discord.applicationId,
      token: ask.token,
    });
    await store.close();

    // The model holds the resumed answer until the test has looked at the store.
    let look = () => {};
    llm.enqueue({ holdUntil: new Promise<void>((resolve) => (look = resolve)) });
    const restartedAt = performance.now();
    const second = await start();
    await until(() => llm.requests.length === 2, 'the interrupted answer to be resumed', 40_000);
    const resumed = await openStore(storeUrl);
    cleanups.push(() => resumed.close());
    const takenOver = await resumed.get<Record<string, unknown>>(storeKeys.discordInFlight(id));
    expect(takenOver?.owner).not.toBe(left.owner);
    expect(takenOver).not.toHaveProperty('token');
    expect(takenOver?.sealedToken).toEqual(expect.any(String));
    expect(JSON.stringify(takenOver)).not.toContain(ask.token);
    look();

    expect(await finishedOriginal(discord, ask.token)).toMatch(groundedAnswer);
    // Delivered through the interaction's webhook, with the token the earlier version kept.
    expect(
      discord.requests.some(
        (r) =>
          r.at >= restartedAt &&
          r.method === 'PATCH' &&
          r.path === `/webhooks/${discord.applicationId}/${ask.token}/messages/@original` &&
          r.status === 200,
      ),
    ).toBe(true);
    await expect.poll(() => resumed.membersOf(storeKeys.discordInFlightIndex), { timeout: 5000 }).toEqual([]);
    expect(await resumed.get(storeKeys.discordInFlight(id))).toBeUndefined();
    expect(second.lines.join('\n')).not.toContain(ask.token);
  }, 120_000);

  it('answers in a new message when the frozen reply was deleted meanwhile, and forgets the record', async ({
    cleanups,
  }) => {
    const { discord, poquan } = await startDiscordHarness(cleanups);
    // A question a gone instance was answering (its lease is long gone) whose reply someone has since deleted.
    const question = userMessage({
      place: discord.channel,
      author: mentioner,
      content: `<@${discord.botUser.id}> ${questions.mention}`,
      mentions: [discord.botUser],
    });
    discord.messages.set(question.id, question);
    const deletedReply = snowflake();
    const record: InFlightAnswer = {
      id: `message:${question.id}`,
      kind: 'message',
      owner: 'an-instance-that-died',
      startedAt: Date.now(),
      question: questions.mention,
      conversationId: `discord:channel:${question.channel_id}:user:${mentioner.id}`,
      language: 'en',
      isPrivate: false,
      channelId: question.channel_id,
      guildId: discord.guild.id,
      userId: mentioner.id,
      messageId: question.id,
      answerMessageId: deletedReply,
    };
    await poquan.store.set(storeKeys.discordInFlight(record.id), record);
    await poquan.store.addToSet(storeKeys.discordInFlightIndex, record.id);

    const answered = await discord.waitForRequest(
      (r) =>
        r.method === 'POST' &&
        r.path === `/channels/${question.channel_id}/messages` &&
        /\n-# Sources: /.test(String(r.body?.content)),
      20_000,
    );
    expect(answered.body.content).toMatch(groundedAnswer);
    expect(
      discord.requests.some((r) => r.path.endsWith(`/messages/${deletedReply}`) && r.status === 404),
    ).toBe(true);
    // The record goes once the answer is delivered: a later restart has nothing to resume.
    await expect
      .poll(() => poquan.store.membersOf(storeKeys.discordInFlightIndex), { timeout: 5000 })
      .toEqual([]);
    expect(await poquan.store.get(storeKeys.discordInFlight(record.id))).toBeUndefined();
  }, 60_000);
});
