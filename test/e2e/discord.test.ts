import type { APIMessage } from 'discord.js';
import { pino } from 'pino';
import { describe, expect } from 'vitest';
import { buildDiscordCommands } from '../../src/adapters/discord/application-commands.ts';
import { createDiscordClient, type DiscordBot } from '../../src/adapters/discord/client.ts';
import { deployDiscordCommands } from '../../src/adapters/discord/deploy.ts';
import { startDiscordAdapter } from '../../src/adapters/discord/index.ts';
import { createPoquan, type Poquan } from '../../src/composition-root.ts';
import { loadConfig, secretsOf } from '../../src/core/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import {
  discordErrors,
  type FakeDiscord,
  type RecordedRequest,
  rateLimited,
  startFakeDiscord,
} from '../fakes/fake-discord.ts';
import { channelIdOf, fakeUser, type SlashOptions } from '../fakes/fake-discord-fixtures.ts';
import { askedQuestion, type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import { type Cleanups, until } from './harness.ts';

interface Harness {
  discord: FakeDiscord;
  llm: FakeLlm;
  poquan: Poquan;
  bot: DiscordBot;
  logs: string[];
}

/** A fake Discord, a fake model, a Poquan on both, and the real discord.js client connected to the fake. */
async function start(
  cleanups: Cleanups,
  env: Record<string, string> = {},
  llmOptions: Parameters<typeof startFakeLlm>[0] = {},
) {
  const discord = await startFakeDiscord();
  cleanups.push(() => discord.close());
  const llm = await startFakeLlm(llmOptions);
  cleanups.push(() => llm.close());
  const logs: string[] = [];
  const config = loadConfig({
    KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
    STORE_URL: 'memory://',
    LLM_BASE_URL: llm.url,
    LLM_API_KEY: 'sk-test',
    LLM_MAX_RETRIES: '0',
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_BASE: discord.apiBase,
    SHOW_REASONING: 'off',
    ...env,
  });
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) }, secretsOf(config));
  const poquan = await createPoquan(config, logger);
  cleanups.push(() => poquan.close());
  const bot = createDiscordClient(poquan, { editIntervalMs: 150 });
  cleanups.push(() => bot.stop(500));
  await bot.start();
  return { discord, llm, poquan, bot, logs } satisfies Harness;
}

const asker = fakeUser({ username: 'asker' });

/** Calls that create or edit a message, i.e. everything that could ping someone. */
function messageWrites(discord: FakeDiscord): RecordedRequest[] {
  return discord.requests.filter(
    (r) =>
      (r.method === 'POST' || r.method === 'PATCH') &&
      (/^\/webhooks\//.test(r.path) || /^\/channels\/\d+\/messages/.test(r.path)),
  );
}

const isOriginalEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path === `/webhooks/1000/${token}/messages/@original`;

const hasSources = (r: RecordedRequest) =>
  typeof r.body?.content === 'string' && r.body.content.includes('-# Sources');

/** The question text of each model call (the last user message). */
function askedQuestions(llm: FakeLlm): string[] {
  return llm.requests.map((request) => {
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    return askedQuestion(messages.filter((m) => m.role === 'user').at(-1)?.content ?? '');
  });
}

/** Waits for the bot's reply to a user's message to reach its final form (with sources); returns that edit. */
async function finalReplyTo(discord: FakeDiscord, message: APIMessage): Promise<RecordedRequest> {
  const reply = await discord.waitForRequest(
    (r) => r.method === 'POST' && r.body?.message_reference?.message_id === message.id,
  );
  const path = `/channels/${message.channel_id}/messages/${reply.response.id}`;
  return discord.waitForRequest((r) => r.method === 'PATCH' && r.path === path && hasSources(r));
}

const longAnswer = `Liang Wenfeng founded DeepSeek and financed it himself [1]. ${'He built High-Flyer first. '.repeat(8)}`;

/** The answer the bot sent the asker by DM: it opened the DM channel with them, then posted there with sources. */
async function answerByDm(discord: FakeDiscord) {
  const dm = await discord.waitForRequest((r) => r.method === 'POST' && r.path === '/users/@me/channels');
  expect(dm.body).toEqual({ recipient_id: asker.id });
  return discord.waitForRequest(
    (r) => r.method === 'POST' && r.path === `/channels/${dm.response?.id}/messages` && hasSources(r),
  );
}

describe('Discord readiness', () => {
  it('reports not connected while the gateway is unreachable, though discord.js still says ready', async ({
    cleanups,
  }) => {
    const discord = await startFakeDiscord();
    const poquan = await createPoquan(
      loadConfig({
        KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
        STORE_URL: 'memory://',
        DISCORD_TOKEN: discord.token,
        DISCORD_API_BASE: discord.apiBase,
      }),
      pino({ level: 'silent' }),
    );
    cleanups.push(() => poquan.close());
    const adapter = await startDiscordAdapter(poquan);
    cleanups.push(() => adapter.stop(100));
    expect(adapter.isConnected()).toBe(true);
    await discord.close();
    await expect.poll(() => adapter.isConnected(), { timeout: 5000 }).toBe(false);
  });
});

describe('Discord adapter', () => {
  it('defers /ask at once, streams the answer by editing the reply, and ends with the answer and its sources', async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups);
    // The model answers only once the bot has deferred: Discord drops an interaction not acknowledged in 3 s, so
    // the deferral must never wait on the model.
    const deferred = discord.waitForRequest((r) => r.path.endsWith('/callback'));
    llm.enqueue({ content: longAnswer, chunkChars: 12, chunkDelayMs: 40, holdUntil: deferred });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });

    const final = await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
    const calls = discord.requests.filter((r) => r.path.includes(interaction.token));
    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: `/interactions/${interaction.id}/${interaction.token}/callback`,
      body: { type: 5, data: { flags: 0 } },
    });
    const liveEdits = calls.filter((r) => isOriginalEdit(interaction.token)(r) && r !== final);
    const textEdits = liveEdits.filter((r) => !r.body.content.startsWith('-# 💭 Thinking…'));
    expect(textEdits.length).toBeGreaterThanOrEqual(2);
    expect(textEdits.every((r) => r.body.content.endsWith('▌'))).toBe(true);
    // Throttled to one edit per 150 ms interval (plus the one early edit for the first readable text), not one
    // per chunk: counted over the time the edits took, so a slow machine only loosens the bound.
    const editingMs = final.at - (liveEdits[0] as RecordedRequest).at;
    expect(liveEdits.length).toBeLessThanOrEqual(Math.ceil(editingMs / 150) + 2);
    expect(final.body.content).toContain('Liang Wenfeng founded DeepSeek and financed it himself [1].');
    expect(final.body.content).toMatch(/\n\n-# Sources: \[1\] DeepSeek's founder — mini\.md/);
    expect(discord.originalMessage(interaction.token)?.flags ?? 0).toBe(0);
    expect(askedQuestions(llm)).toEqual(['Who founded DeepSeek?']);
  });

  it("shows the model's reasoning as a collapsed block apart from the answer when SHOW_REASONING=collapsed", async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups, { SHOW_REASONING: 'collapsed' });
    llm.enqueue({
      reasoning: 'Passage [1] names Liang Wenfeng as the founder, so the answer is his name.',
      content: 'Liang Wenfeng founded DeepSeek [1].',
      chunkDelayMs: 30,
    });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    const final = await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
    const thinking = discord.requests.find(
      (r) => isOriginalEdit(interaction.token)(r) && r.body.content.startsWith('-# 💭 Thinking…'),
    );
    expect(thinking?.body.content).toMatch(/^-# 💭 Thinking… Passage/);
    expect(final.body.content).toBe(
      [
        '-# 💭 Reasoning: ||Passage [1] names Liang Wenfeng as the founder, so the answer is his name.||',
        'Liang Wenfeng founded DeepSeek [1].',
        '',
        "-# Sources: [1] DeepSeek's founder — mini.md",
      ].join('\n'),
    );
  });

  it('answers ephemerally when /ask is given private:true', async ({ cleanups }) => {
    const { discord } = await start(cleanups);
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?', private: true },
    });
    await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
    const callback = discord.requests.find((r) => r.path.endsWith('/callback'));
    expect(callback?.body).toEqual({ type: 5, data: { flags: 64 } });
    expect(discord.originalMessage(interaction.token)?.flags).toBe(64);
    expect(discord.requests.filter((r) => r.path.startsWith('/channels/'))).toEqual([]);
  });

  it('continues the conversation when someone replies to an answer', async ({ cleanups }) => {
    const { discord, llm } = await start(cleanups);
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
    const answer = discord.originalMessage(interaction.token) as APIMessage;

    const followUp = discord.sendUserMessage({
      place: discord.channel,
      author: asker,
      content: 'How did he finance it?',
      replyTo: answer,
    });
    const final = await finalReplyTo(discord, followUp);
    expect(final.path.startsWith(`/channels/${followUp.channel_id}/messages/`)).toBe(true);

    const secondCall = llm.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    const transcript = JSON.stringify(secondCall);
    expect(transcript).toContain('Who founded DeepSeek?');
    expect(secondCall.filter((m) => m.role === 'assistant')).toHaveLength(1);
    expect(askedQuestions(llm).at(-1)).toBe('How did he finance it?');
  });

  it('keeps a private question out of public conversations and another user’s reply out of the asker’s memory', async ({
    cleanups,
  }) => {
    const { discord, llm, poquan } = await start(cleanups);
    const other = fakeUser({ username: 'other' });
    const ask = async (question: string, user = asker, options: Record<string, string | boolean> = {}) => {
      const interaction = discord.sendSlashCommand({
        place: discord.channel,
        user,
        name: 'ask',
        options: { question, ...options },
      });
      await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
      return discord.originalMessage(interaction.token) as APIMessage;
    };
    const publicAnswer = await ask('Who founded DeepSeek?');
    await ask('How big is the confidential state AI investment fund?', asker, { private: true });
    const reply = discord.sendUserMessage({
      place: discord.channel,
      author: other,
      content: 'How did he finance it?',
      replyTo: publicAnswer,
    });
    await finalReplyTo(discord, reply);

    const transcripts = llm.requests.map((request) => JSON.stringify(request.body.messages));
    // The private question starts from nothing, and nobody's later prompt carries it.
    expect(transcripts[1]).not.toContain('Who founded DeepSeek?');
    for (const transcript of [transcripts[0], transcripts[2]])
      expect(transcript).not.toContain('confidential');
    // The replier sees the one public answer they replied to.
    expect(transcripts[2]).toContain('Who founded DeepSeek?');
    const channel = channelIdOf(discord.channel);
    const askerTurns = await poquan.memory.load(`discord:channel:${channel}:user:${asker.id}`);
    expect(askerTurns.map((turn) => turn.question)).toEqual(['Who founded DeepSeek?']);
    const otherTurns = await poquan.memory.load(`discord:channel:${channel}:user:${other.id}`);
    expect(otherTurns.map((turn) => turn.question)).toEqual([
      'Who founded DeepSeek?',
      'How did he finance it?',
    ]);
  });

  it('answers a mention in a guild channel with a reply, without the mention in the question', async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups);
    const question = discord.sendUserMessage({
      place: discord.channel,
      author: asker,
      content: `<@${discord.botUser.id}> Who founded DeepSeek?`,
      mentions: [discord.botUser],
    });
    const final = await finalReplyTo(discord, question);
    const typing = discord.requests.find((r) => r.path === `/channels/${question.channel_id}/typing`);
    const reply = discord.requests.find((r) => r.method === 'POST' && r.path.endsWith('/messages'));
    expect(typing).toBeDefined();
    expect(reply?.body.message_reference).toMatchObject({
      message_id: question.id,
      fail_if_not_exists: false,
    });
    expect(final.body.content).toContain('[1]');
    expect(askedQuestions(llm)).toEqual(['Who founded DeepSeek?']);
  });

  it('keeps one conversation per DM until /reset forgets it', async ({ cleanups }) => {
    const { discord, llm } = await start(cleanups);
    const dm = discord.dmWith(asker);
    const ask = async (content: string) => {
      const message = discord.sendUserMessage({ place: dm, author: asker, content });
      await finalReplyTo(discord, message);
    };
    await ask('Who founded DeepSeek?');
    await ask('How did he finance it?');
    const reset = discord.sendSlashCommand({ place: dm, user: asker, name: 'reset' });
    await discord.waitForRequest(
      (r) => isOriginalEdit(reset.token)(r) && String(r.body?.content).includes('forgotten'),
    );
    await ask('How big is the national AI investment fund?');

    const histories = llm.requests.map(
      (request) =>
        (request.body.messages as Array<{ role: string }>).filter((m) => m.role === 'assistant').length,
    );
    expect(histories).toEqual([0, 1, 0]);
  });

  it("explains Discord's own ways to ask in /help, in the asker's language, and nothing about Telegram", async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups);
    const help = async (locale: string) => {
      const interaction = discord.sendSlashCommand({
        place: discord.channel,
        user: asker,
        name: 'help',
        locale,
      });
      const reply = await discord.waitForRequest(
        (r) => isOriginalEdit(interaction.token)(r) && Boolean(r.body?.content),
      );
      return String(reply.body.content);
    };
    const english = await help('en-US');
    expect(english).toContain('Ask Poquan');
    expect(english).toContain('/ask question:');
    expect(english).not.toMatch(/Telegram|privacy mode/);
    const chinese = await help('zh-CN');
    expect(chinese).toContain('问破圈');
    expect(chinese).not.toMatch(/Telegram|隐私模式/);
    expect(llm.requests).toHaveLength(0);
  });

  it('answers about a message with the "Ask Poquan" message command', async ({ cleanups }) => {
    const { discord, llm } = await start(cleanups);
    const target = discord.sendUserMessage({
      place: discord.channel,
      author: fakeUser(),
      content: 'Did Liang Wenfeng finance DeepSeek himself?',
    });
    const interaction = discord.sendMessageCommand({
      place: discord.channel,
      user: asker,
      name: 'Ask Poquan',
      target,
    });
    await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
    expect(askedQuestions(llm)).toEqual(['Did Liang Wenfeng finance DeepSeek himself?']);
  });

  it('splits a 5000-character answer into messages of at most 2000 characters, keeping code blocks whole', async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups);
    const paragraphs = Array.from({ length: 30 }, (_, i) =>
      `Part ${i}: Liang Wenfeng founded DeepSeek and financed it through High-Flyer [1]. `.repeat(2),
    );
    const code = `\`\`\`python\n${Array.from({ length: 30 }, (_, i) => `funding_${i} = ${i * 10}`).join('\n')}\n\`\`\``;
    const content = [...paragraphs.slice(0, 12), code, ...paragraphs.slice(12)].join('\n\n');
    expect(content.length).toBeGreaterThan(5000);
    llm.enqueue({ content, chunkChars: 400 });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    await discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/webhooks/1000/${interaction.token}` && hasSources(r),
    );

    const final = discord.requests.filter(isOriginalEdit(interaction.token)).at(-1) as RecordedRequest;
    const followUps = discord.requests.filter(
      (r) => r.method === 'POST' && r.path === `/webhooks/1000/${interaction.token}`,
    );
    const messages = [final, ...followUps].map((r) => r.body.content as string);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(2000);
      expect((message.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    const joined = messages
      .join('\n')
      .replace(/```python\n|```\n?/g, '')
      .replace(/\s+/g, ' ');
    for (const paragraph of paragraphs) expect(joined).toContain(paragraph.trim());
    for (let i = 0; i < 30; i++) expect(joined).toContain(`funding_${i} = ${i * 10}`);
  });

  it('never pings: @everyone in model output is made inert and every message says allowed_mentions parse []', async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups);
    llm.setDefault({ content: 'Hello @everyone and <@&42>! Liang Wenfeng founded DeepSeek [1].' });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    const final = await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
    const mention = discord.sendUserMessage({
      place: discord.thread,
      author: asker,
      content: `<@${discord.botUser.id}> @everyone how big is the national AI investment fund?`,
      mentions: [discord.botUser],
    });
    await finalReplyTo(discord, mention);

    expect(final.body.content).not.toMatch(/@everyone|<@&42>/);
    expect(final.body.content).toContain('@\u200Deveryone');
    const writes = messageWrites(discord);
    expect(writes.length).toBeGreaterThanOrEqual(4);
    for (const write of writes) expect(write.body.allowed_mentions).toMatchObject({ parse: [] });
  });

  it('keeps the partial answer with a visible note when the model fails mid-stream', async ({ cleanups }) => {
    const { discord, llm } = await start(cleanups);
    llm.enqueue({ content: longAnswer, chunkChars: 20, cutAfterChunks: 3 });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    const final = await discord.waitForRequest(
      (r) => isOriginalEdit(interaction.token)(r) && String(r.body?.content).includes('⚠️'),
    );
    expect(final.body.content).toContain(longAnswer.slice(0, 40));
    expect(final.body.content).toMatch(/-# ⚠️ The answer was cut off by the model provider\.$/);
  });

  it('says what went wrong, in the reply, when the model fails before any text', async ({ cleanups }) => {
    const { discord, llm } = await start(cleanups);
    llm.enqueue({ status: 503 });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    const final = await discord.waitForRequest(isOriginalEdit(interaction.token));
    expect(final.body.content).toBe(
      'The model provider is unavailable at the moment. Please try again shortly.',
    );
    const original = discord.originalMessage(interaction.token);
    expect((original?.flags ?? 0) & 128).toBe(0);
  });

  it('waits out a REST 429 on the final answer and still delivers it', async ({ cleanups }) => {
    const { discord, llm } = await start(cleanups);
    // A short answer with no reasoning: the final edit is the first and only one.
    llm.enqueue({ content: 'Liang Wenfeng founded DeepSeek [1].', reasoning: '' });
    discord.failNext('PATCH /webhooks/*/*/messages/@original', 1, rateLimited(0.5));
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    const final = await discord.waitForRequest(
      (r) => isOriginalEdit(interaction.token)(r) && hasSources(r) && r.status === 200,
      8000,
    );
    const edits = discord.requests.filter(isOriginalEdit(interaction.token));
    expect(edits.map((r) => r.status)).toEqual([429, 200]);
    expect(final.at - (edits[0] as RecordedRequest).at).toBeGreaterThanOrEqual(450);
    expect(edits[0]?.body).toEqual(final.body);
  });

  it('ends visibly in the channel when the interaction token has expired', async ({ cleanups }) => {
    const { discord, llm } = await start(cleanups);
    llm.enqueue({ content: longAnswer, chunkChars: 20, firstTokenDelayMs: 200 });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    await discord.waitForRequest((r) => r.path.endsWith('/callback'));
    discord.expireInteraction(interaction.token);
    const fallback = await discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/channels/${interaction.channel_id}/messages`,
    );
    expect(fallback.body.content).toContain('Liang Wenfeng founded DeepSeek');
    expect(fallback.body.content).toContain('-# Sources');
    expect(fallback.body.allowed_mentions).toEqual({ parse: [] });
    const failedEdit = discord.requests.find((r) => isOriginalEdit(interaction.token)(r));
    expect(failedEdit?.status).toBe(401);
  });

  it('sends a private answer by DM when its interaction token has expired', async ({ cleanups }) => {
    const { discord } = await start(cleanups);
    discord.failNext('PATCH /webhooks/*/*/messages/@original', 20, discordErrors.unknownWebhook());
    discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?', private: true },
    });
    expect((await answerByDm(discord)).body.content).toContain('-# Sources');
    const publicChannel = `/channels/${channelIdOf(discord.channel)}/messages`;
    expect(discord.requests.some((r) => r.path === publicChannel)).toBe(false);
  });

  it('answers in the channel, or by DM when private, when Discord no longer takes the deferral', async ({
    cleanups,
  }) => {
    // The deferral arrives after the 3-second window (a slow or just restarted process): 10062, and Discord shows
    // the asker that the application did not respond. The question is still answered where the asker sees it.
    const { discord } = await start(cleanups);
    discord.failNext('POST /interactions/*/*/callback', 2, discordErrors.unknownInteraction());
    const publicAsk = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    const inChannel = await discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/channels/${publicAsk.channel_id}/messages` && hasSources(r),
    );
    expect(inChannel.body.content).toContain('Liang Wenfeng');
    expect(inChannel.body.allowed_mentions).toEqual({ parse: [] });
    discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?', private: true },
    });
    expect((await answerByDm(discord)).body.content).toContain('Liang Wenfeng');
    const callbacks = discord.requests.filter((r) => r.path.endsWith('/callback'));
    expect(callbacks.map((r) => r.status)).toEqual([404, 404]);
    // Nothing went through the dead webhooks, and the public answer was posted once.
    expect(discord.requests.filter((r) => r.path.startsWith('/webhooks/'))).toEqual([]);
    const channelPosts = discord.requests.filter(
      (r) => r.path === `/channels/${publicAsk.channel_id}/messages`,
    );
    expect(channelPosts).toHaveLength(1);
  });

  it('refuses a question over the per-user rate limit privately', async ({ cleanups }) => {
    const { discord } = await start(cleanups, { RATE_LIMIT_PER_MINUTE: '1' });
    const first = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    await discord.waitForRequest((r) => isOriginalEdit(first.token)(r) && hasSources(r));
    const second = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'What about state funding?' },
    });
    const refusal = await discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/webhooks/1000/${second.token}`,
    );
    expect(refusal.body).toMatchObject({ flags: 64 });
    expect(refusal.body.content).toMatch(/asking faster than I can answer/);
    expect(discord.requests.some((r) => r.method === 'DELETE' && r.path.includes(second.token))).toBe(true);
  });

  it('tells a user over the rate limit once until they may ask again, and ignores further mentions silently', async ({
    cleanups,
  }) => {
    const { discord, llm, logs } = await start(cleanups, {
      RATE_LIMIT_PER_MINUTE: '1',
      ANSWER_CACHE_TTL_HOURS: '0',
    });
    const mention = (author: typeof asker, text: string) =>
      discord.sendUserMessage({
        place: discord.channel,
        author,
        content: `<@${discord.botUser.id}> ${text}`,
        mentions: [discord.botUser],
      });
    const count = (msg: string) => logs.filter((line) => line.includes(`"msg":"${msg}"`)).length;
    const repliesTo = (question: APIMessage) =>
      [...discord.messages.values()].filter((m) => m.message_reference?.message_id === question.id);

    mention(asker, 'Who founded DeepSeek?');
    await until(() => count('answered') === 1, 'the first answer');
    const overLimit = ['Who funds it?', 'And High-Flyer?', 'Anyone there?'].map((text) =>
      mention(asker, text),
    );
    const ignored = 'over the rate limit again; ignored (the user was told once)';
    await until(
      () => count(ignored) === 2 && overLimit.some((question) => repliesTo(question).length > 0),
      'one notice and two silences',
    );
    const notices = overLimit.flatMap(repliesTo).map((reply) => reply.content);
    expect(notices).toEqual([
      expect.stringMatching(/asking faster than I can answer\. Please try again in \d+ s/),
    ]);
    // Ignored means ignored: not even a typing indicator for the two silent ones.
    const channel = channelIdOf(discord.channel);
    expect(discord.requests.filter((r) => r.path === `/channels/${channel}/typing`)).toHaveLength(1);

    // A slash command must be answered: it still gets its refusal, which only the asker sees.
    const slash = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who funds it?' },
    });
    const refusal = await discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/webhooks/1000/${slash.token}`,
    );
    expect(refusal.body).toMatchObject({ flags: 64, content: expect.stringMatching(/asking faster/) });

    // Another user in the same channel has a limit of their own.
    const other = mention(fakeUser({ username: 'other' }), 'Who founded High-Flyer?');
    await until(
      () => repliesTo(other).some((reply) => reply.content.includes('-# Sources')),
      "the other user's answer",
    );
    expect(repliesTo(other)).toHaveLength(1);
    expect(llm.requests).toHaveLength(2);
  });

  it("answers a slash command with options it can't use by naming the option, in the asker's language", async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups);
    // What a client with a stale registration, or a hand-made API call, can send.
    const cases: Array<{ options: SlashOptions; locale: string; shown: string }> = [
      { options: { private: true }, locale: 'en-US', shown: '/ask needs the "question" option.' },
      {
        options: { question: 'Who founded DeepSeek?', private: 'yes' },
        locale: 'zh-CN',
        shown: '/ask 的“private”选项只能是 true 或 false。',
      },
    ];
    for (const { options, locale, shown } of cases) {
      const interaction = discord.sendSlashCommand({
        place: discord.channel,
        user: asker,
        name: 'ask',
        options,
        locale,
      });
      await until(() => discord.originalMessage(interaction.token)?.content === shown, `"${shown}"`);
    }
    expect(llm.requests).toHaveLength(0);
  });

  it('turns away other servers and ignores their mentions when DISCORD_ALLOWED_GUILD_IDS is set', async ({
    cleanups,
  }) => {
    const { discord, llm } = await start(cleanups, { DISCORD_ALLOWED_GUILD_IDS: '123456789012345678' });
    discord.sendUserMessage({
      place: discord.channel,
      author: asker,
      content: `<@${discord.botUser.id}> Who founded DeepSeek?`,
      mentions: [discord.botUser],
    });
    discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Hi?' },
    });
    const callback = await discord.waitForRequest((r) => r.path.endsWith('/callback'));
    expect(callback.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(callback.body.data.content).toContain("isn't enabled here");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(discord.requests.filter((r) => r.path.startsWith('/channels/'))).toEqual([]);
    expect(llm.requests).toHaveLength(0);
  });

  it('answers once when two instances share the bot token and the store', async ({ cleanups }) => {
    const { discord, poquan } = await start(cleanups);
    const second = createDiscordClient(poquan, { editIntervalMs: 150 });
    cleanups.push(() => second.stop(500));
    await second.start();
    const question = discord.sendUserMessage({
      place: discord.channel,
      author: asker,
      content: `<@${discord.botUser.id}> Who founded DeepSeek?`,
      mentions: [discord.botUser],
    });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'How big is the national AI investment fund?' },
    });
    await finalReplyTo(discord, question);
    await discord.waitForRequest((r) => isOriginalEdit(interaction.token)(r) && hasSources(r));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(discord.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages'))).toHaveLength(
      1,
    );
    expect(discord.requests.filter((r) => r.path.endsWith('/callback'))).toHaveLength(1);
  });

  it('finishes answers in flight before stopping', async ({ cleanups }) => {
    const { discord, llm, bot } = await start(cleanups);
    llm.enqueue({ content: longAnswer, chunkChars: 20, chunkDelayMs: 30 });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    await discord.waitForRequest(isOriginalEdit(interaction.token));
    await bot.stop(5000);
    expect(discord.requests.some((r) => isOriginalEdit(interaction.token)(r) && hasSources(r))).toBe(true);
  });

  it('registers the commands with deploy-commands and says what changed', async ({ cleanups }) => {
    const { discord, poquan } = await start(cleanups);
    const logger = pino({ level: 'silent' });
    const first = await deployDiscordCommands(poquan.config, logger);
    const put = discord.requests.find((r) => r.method === 'PUT');
    expect(put?.path).toBe('/applications/1000/commands');
    expect(put?.body).toEqual(buildDiscordCommands(poquan.config, 'global'));
    expect(put?.body[0]).toMatchObject({
      name: 'ask',
      description_localizations: { 'zh-CN': expect.any(String) },
      options: [
        { name: 'question', type: 3, required: true },
        { name: 'private', type: 5 },
      ],
    });
    expect(put?.body.at(-1)).toMatchObject({
      type: 3,
      name: 'Ask Poquan',
      name_localizations: { 'zh-CN': '问破圈' },
    });
    expect(first).toContain('Registered 9 Discord commands globally for application 1000.');
    expect(first).toContain(
      'added: /ask, /sources, /reset, /about, /help, /usage, /reload, /stats, "Ask Poquan" (message menu)',
    );

    const again = await deployDiscordCommands(poquan.config, logger);
    expect(again).toContain('up to date; nothing sent');
    expect(discord.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);

    discord.commands.global.splice(4, 1);
    (discord.commands.global[0] as { description: string }).description = 'An older description';
    discord.commands.global.push({ ...discord.commands.global[1], name: 'ping', id: '77' });
    const changed = await deployDiscordCommands(poquan.config, logger);
    expect(changed).toContain('added: /help');
    expect(changed).toContain('updated: /ask');
    expect(changed).toContain('removed: /ping');
    expect(changed).toContain(
      'unchanged: /sources, /reset, /about, /usage, /reload, /stats, "Ask Poquan" (message menu)',
    );

    const guildConfig = {
      ...poquan.config,
      discord: { ...poquan.config.discord, guildId: discord.guild.id },
    };
    await deployDiscordCommands(guildConfig, logger);
    const guildPut = discord.requests.filter((r) => r.method === 'PUT').at(-1);
    expect(guildPut?.path).toBe(`/applications/1000/guilds/${discord.guild.id}/commands`);
    expect(guildPut?.body[0]).not.toHaveProperty('contexts');

    const wrongApplication = {
      ...poquan.config,
      discord: { ...poquan.config.discord, applicationId: '2000' },
    };
    await expect(deployDiscordCommands(wrongApplication, logger)).rejects.toThrow(
      /DISCORD_APPLICATION_ID must be the application DISCORD_TOKEN belongs to/,
    );
    const wrongToken = { ...poquan.config, discord: { ...poquan.config.discord, token: 'not-the-token' } };
    await expect(deployDiscordCommands(wrongToken, logger)).rejects.toThrow(
      /^Discord rejected DISCORD_TOKEN \(401 Unauthorized\)/,
    );
  });

  it('never writes the bot token or an interaction token to the log, even when things fail', async ({
    cleanups,
  }) => {
    const { discord, llm, logs } = await start(cleanups);
    llm.enqueue({ content: longAnswer, cutAfterChunks: 2, chunkChars: 20 });
    const first = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    await discord.waitForRequest(
      (r) => isOriginalEdit(first.token)(r) && String(r.body?.content).includes('⚠️'),
    );
    const second = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'What about state funding?' },
    });
    await discord.waitForRequest((r) => r.path.endsWith('/callback') && r.path.includes(second.token));
    discord.expireInteraction(second.token);
    await discord.waitForRequest((r) => r.method === 'POST' && r.path.startsWith('/channels/'));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const log = logs.join('');
    expect(log).toContain('"code":50027');
    expect(log).not.toContain(discord.token);
    expect(log).not.toContain(first.token);
    expect(log).not.toContain(second.token);
  });
});
