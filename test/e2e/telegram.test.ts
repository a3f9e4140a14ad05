import type { MessageEntity } from 'grammy/types';
import { pino } from 'pino';
import { describe, expect } from 'vitest';
import { readableChars } from '../../src/adapters/shared/throttled-answer.ts';
import { type RunningTelegramAdapter, startTelegramAdapter } from '../../src/adapters/telegram/index.ts';
import { htmlToPlainText } from '../../src/adapters/telegram/render.ts';
import { createPoquan } from '../../src/composition-root.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { FakeLlm, FakeLlmOptions } from '../fakes/fake-llm.ts';
import { askedQuestion } from '../fakes/fake-llm.ts';
import {
  type FakeChat,
  type FakeTelegram,
  type FakeTelegramOptions,
  startFakeTelegram,
  telegramErrors,
} from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { freePort } from '../servers/free-port.ts';
import { type Cleanups, startTelegramHarness, telegramTiming } from './harness.ts';

const token = '123:TEST';
const ada = { id: 42, is_bot: false, first_name: 'Ada', language_code: 'en' };
const bo = { id: 43, is_bot: false, first_name: 'Bo', language_code: 'zh-hans' };
const privateChat: FakeChat = { id: 42, type: 'private', first_name: 'Ada' };
const group: FakeChat = { id: -1001, type: 'supergroup', title: 'AI watchers' };
const forum: FakeChat = { id: -1002, type: 'supergroup', title: 'AI forum', is_forum: true };
/** The harness's fast but real cadence: several updates per answer, group edits further apart than drafts. */
const timing = telegramTiming;

interface Harness {
  telegram: FakeTelegram;
  llm: FakeLlm;
  adapter: RunningTelegramAdapter;
  logs: string[];
  /** The bot's messages in a chat, once one more answer has been fully delivered (its "delivered" log line). */
  answered(chatId: number): Promise<string[]>;
  /** The bot's messages in a chat, once there are `count` of them. */
  messagesOnce(chatId: number, count: number): Promise<string[]>;
  llmMessages(index: number): Array<{ role: string; content: string }>;
}

async function start(
  cleanups: Cleanups,
  env: Record<string, string> = {},
  fakeOptions: FakeTelegramOptions = {},
  llmOptions: FakeLlmOptions = {},
): Promise<Harness> {
  let logs: string[] = [];
  // Registered first, so it runs last, once the bot has stopped: whatever the test did, no log line may carry the
  // bot token.
  cleanups.push(async () => {
    for (const line of logs) expect(line).not.toContain(token);
  });
  const {
    telegram,
    llm,
    adapter,
    logs: captured,
  } = await startTelegramHarness(cleanups, env, {
    telegram: fakeOptions,
    llm: llmOptions,
  });
  logs = captured.lines;
  const answeredLines = () => logs.filter((line) => line.includes('"msg":"delivered"')).length;
  let settled = 0;
  return {
    telegram,
    llm,
    adapter,
    logs,
    async answered(chatId) {
      settled += 1;
      const target = settled;
      await telegram.waitFor(() => answeredLines() >= target);
      return telegram.botMessages(chatId).map((message) => message.text);
    },
    async messagesOnce(chatId, count) {
      await telegram.waitFor(() => telegram.botMessages(chatId).length >= count);
      return telegram.botMessages(chatId).map((message) => message.text);
    },
    llmMessages(index) {
      return llm.requests[index]?.body.messages as Array<{ role: string; content: string }>;
    },
  };
}

const entityTypes = (entities: MessageEntity[]) => entities.map((entity) => entity.type);

describe('Telegram adapter', () => {
  it('answers a private question with a citation and its sources, after removing a stale webhook', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups, {}, { webhookUrl: 'https://old.example/hook' });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    expect(answer).toMatch(/\[1\]/);
    expect(answer).toMatch(/Sources\n\[1\] DeepSeek's founder — mini\.md$/);
    expect(bot.telegram.webhookUrl).toBe('');
    const [send] = bot.telegram.callsOf('sendMessage');
    expect(send?.body).toMatchObject({ parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    expect(send?.body.reply_parameters).toBeUndefined();
    expect(bot.telegram.callsOf('sendChatAction')[0]?.body).toMatchObject({ chat_id: 42, action: 'typing' });
  });

  it('streams a private answer as a growing draft, then sends the complete text', async ({ cleanups }) => {
    const bot = await start(cleanups);
    const content = 'Liang Wenfeng founded High-Flyer in 2015 and later financed DeepSeek himself [1].';
    bot.llm.enqueue({ content, chunkChars: 6, chunkDelayMs: 25 });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    const drafts = bot.telegram.callsOf('sendMessageDraft');
    expect(drafts.length).toBeGreaterThanOrEqual(3);
    expect(new Set(drafts.map((call) => call.body.draft_id)).size).toBe(1);
    const texts = drafts.map((call) => call.body.text as string);
    for (const [i, text] of texts.entries()) {
      expect(content.startsWith(text)).toBe(true);
      if (i > 0) expect(text.length).toBeGreaterThan((texts[i - 1] as string).length);
    }
    expect(answer?.startsWith(content)).toBe(true);
    expect(bot.telegram.callsOf('editMessageText')).toHaveLength(0);
  });

  it('streams a group answer by editing one reply, spaced by the group interval, with no failed call', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    const content =
      'DeepSeek was financed by its founder Liang Wenfeng, who had made his fortune with High-Flyer [1].';
    bot.llm.enqueue({ content, chunkChars: 10, chunkDelayMs: 80 });
    const question = bot.telegram.pushMessage({
      chat: group,
      from: ada,
      text: '/ask Did Liang Wenfeng finance DeepSeek himself?',
    });
    const [answer] = await bot.answered(group.id);
    expect(answer?.startsWith(content)).toBe(true);
    const [send, ...others] = bot.telegram.callsOf('sendMessage', group.id);
    expect(others).toHaveLength(0);
    expect(send?.body.reply_parameters).toEqual({
      message_id: question.message_id,
      allow_sending_without_reply: true,
    });
    const edits = bot.telegram.callsOf('editMessageText', group.id);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    const previews = [send, ...edits.slice(0, -1)];
    // Only the first preview showing 50 characters may come sooner (after a slow model's first words).
    const early = previews.findIndex(
      (call) => htmlToPlainText(String(call?.body.text)).trim().length >= readableChars,
    );
    for (let i = 1; i < previews.length; i++) {
      if (i === early) continue;
      expect((previews[i]?.at ?? 0) - (previews[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(
        timing.groupIntervalMs * 0.8,
      );
    }
    expect(bot.telegram.calls.filter((call) => !call.ok)).toEqual([]);
    expect(bot.telegram.callsOf('sendMessageDraft')).toHaveLength(0);
  });

  it('falls back to sendMessage and edits in a private chat when the server has no drafts', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups, {}, { supportsDrafts: false });
    bot.llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer in 2015, and later he financed DeepSeek himself [1].',
      chunkChars: 5,
      chunkDelayMs: 30,
    });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const messages = await bot.answered(privateChat.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^Liang Wenfeng founded High-Flyer in 2015, and later .* \[1\]\./);
    expect(bot.telegram.callsOf('sendMessageDraft')).toHaveLength(1);
    expect(bot.telegram.callsOf('editMessageText').length).toBeGreaterThanOrEqual(1);
  });

  it('ignores group chatter and answers a mention and a reply to its own message', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.telegram.pushMessage({ chat: group, from: ada, text: 'Anyone for lunch?' });
    bot.telegram.pushMessage({ chat: group, from: ada, text: '@PoquanBot who founded High-Flyer?' });
    const [first] = await bot.answered(group.id);
    expect(bot.llm.requests).toHaveLength(1);
    expect(askedQuestion(bot.llmMessages(0).at(-1)?.content ?? '')).toBe('who founded High-Flyer?');
    const botMessage = bot.telegram.botMessages(group.id)[0];
    bot.telegram.pushMessage({
      chat: group,
      from: bo,
      text: 'And how big is the national AI fund?',
      reply_to_message_id: botMessage?.message_id,
    });
    const messages = await bot.answered(group.id);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toBe(first);
    expect(bot.llm.requests).toHaveLength(2);
    expect(askedQuestion(bot.llmMessages(1).at(-1)?.content ?? '')).toBe(
      'And how big is the national AI fund?',
    );
  });

  it('keeps a separate conversation in each forum topic and answers in the topic', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.telegram.pushMessage({
      chat: forum,
      from: ada,
      message_thread_id: 7,
      text: '/ask Who founded High-Flyer?',
    });
    await bot.answered(forum.id);
    bot.telegram.pushMessage({
      chat: forum,
      from: ada,
      message_thread_id: 9,
      text: '/ask Did Liang Wenfeng finance DeepSeek himself?',
    });
    await bot.answered(forum.id);
    bot.telegram.pushMessage({
      chat: forum,
      from: ada,
      message_thread_id: 7,
      text: '/ask How big is the national AI fund?',
    });
    await bot.answered(forum.id);
    expect(bot.llmMessages(1).map((m) => m.role)).toEqual(['system', 'user']);
    expect(bot.llmMessages(2).map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(bot.llmMessages(2)[1]?.content).toBe('Who founded High-Flyer?');
    expect(bot.telegram.botMessages(forum.id, 7)).toHaveLength(2);
    expect(bot.telegram.botMessages(forum.id, 9)).toHaveLength(1);
    for (const call of bot.telegram.callsOf('sendChatAction', forum.id)) {
      expect([7, 9]).toContain(call.body.message_thread_id);
    }
  });

  it('shows "typing…" while waiting for the first token, and stops once text appears', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    bot.llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer [1].',
      reasoning: '',
      firstTokenDelayMs: 500,
    });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.answered(privateChat.id);
    const firstText =
      bot.telegram.calls.find((call) => ['sendMessageDraft', 'sendMessage'].includes(call.method))?.at ?? 0;
    const typing = bot.telegram.callsOf('sendChatAction').map((call) => call.at);
    expect(typing.filter((at) => at < firstText).length).toBeGreaterThanOrEqual(2);
    expect(typing.filter((at) => at > firstText)).toEqual([]);
  });

  it('forgets the conversation on /reset: the next model request has no history', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.answered(privateChat.id);
    bot.telegram.pushMessage({
      chat: privateChat,
      from: ada,
      text: 'Did Liang Wenfeng finance DeepSeek himself?',
    });
    await bot.answered(privateChat.id);
    expect(bot.llmMessages(1).map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: '/reset' });
    expect((await bot.messagesOnce(privateChat.id, 3))[2]).toBe("Done — I've forgotten this conversation.");
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'How big is the national AI fund?' });
    await bot.answered(privateChat.id);
    expect(bot.llmMessages(2).map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('registers its commands in English and Chinese, and /start explains group privacy mode', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    const names = ['start', 'ask', 'sources', 'reset', 'about', 'help', 'usage'];
    expect(bot.telegram.commands.get('')?.map((c) => c.command)).toEqual(names);
    expect(bot.telegram.commands.get('zh')?.map((c) => c.command)).toEqual(names);
    expect(bot.telegram.commands.get('zh')?.[1]?.description).toMatch(/提问/);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: '/start' });
    expect((await bot.messagesOnce(privateChat.id, 1))[0]).toMatch(/privacy mode/);
    bot.telegram.pushMessage({ chat: group, from: bo, text: '/help@PoquanBot' });
    expect((await bot.messagesOnce(group.id, 1))[0]).toMatch(/隐私模式/);
    expect(bot.llm.requests).toHaveLength(0);
  });

  it('survives a 429 storm: waits retry_after each time and still delivers the answer', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    bot.telegram.failNext('sendMessage', 2, telegramErrors.tooManyRequests(1));
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    expect(answer).toMatch(/\[1\]/);
    const sends = bot.telegram.callsOf('sendMessage');
    expect(sends.map((call) => call.error_code ?? 200)).toEqual([429, 429, 200]);
    expect(sends.some((call) => call.early)).toBe(false);
    expect((sends[2]?.at ?? 0) - (sends[0]?.at ?? 0)).toBeGreaterThanOrEqual(2000);
  });

  it.for([
    ['a private chat', privateChat, 'Who founded High-Flyer?'],
    ['a group', group, '/ask Who founded High-Flyer?'],
  ] as const)(
    'splits a 6000-character answer in %s into messages of at most 4096 characters, all text present',
    async ([, chat, text], { cleanups }) => {
      const bot = await start(cleanups);
      const paragraphs = Array.from({ length: 14 }, (_, p) =>
        Array.from(
          { length: 8 },
          (_, s) => `Paragraph ${p} sentence ${s} says DeepSeek is cheap to train [1].`,
        ).join(' '),
      );
      const content = paragraphs.join('\n\n');
      expect(content.length).toBeGreaterThan(6000);
      bot.llm.enqueue({ content, chunkChars: 400, chunkDelayMs: 10 });
      bot.telegram.pushMessage({ chat, from: ada, text });
      const messages = await bot.answered(chat.id);
      expect(messages.length).toBeGreaterThanOrEqual(2);
      for (const message of messages) expect(message.length).toBeLessThanOrEqual(4096);
      const all = messages.join('\n\n');
      for (const paragraph of paragraphs) expect(all).toContain(paragraph);
      expect(messages.at(-1)).toMatch(/Sources\n\[1\]/);
      expect(bot.telegram.calls.filter((call) => !call.ok)).toEqual([]);
    },
  );

  it('delivers HTML-hostile model output literally, without a single rejected call', async ({ cleanups }) => {
    const bot = await start(cleanups);
    const content =
      'Use <script>alert(1)</script> if a < b & c > d; **unbalanced and <b>bold</b> & `x<y` [1].';
    bot.llm.enqueue({ content, chunkChars: 7, chunkDelayMs: 5 });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    expect(answer).toContain(
      'Use <script>alert(1)</script> if a < b & c > d; **unbalanced and <b>bold</b> & x<y [1].',
    );
    expect(bot.telegram.calls.filter((call) => !call.ok)).toEqual([]);
  });

  it('resends as plain text when Telegram cannot parse the markup', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.llm.enqueue({ content: 'Liang Wenfeng **founded** High-Flyer [1].' });
    bot.telegram.failNext(
      'sendMessage',
      1,
      telegramErrors.cantParseEntities('Unsupported start tag "x" at byte offset 0'),
    );
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    const [rejected, plain] = bot.telegram.callsOf('sendMessage');
    expect(rejected?.body.parse_mode).toBe('HTML');
    expect(plain?.body.parse_mode).toBeUndefined();
    expect(answer).toMatch(/^Liang Wenfeng founded High-Flyer \[1\]\.\n\nSources/);
    expect(bot.telegram.botMessages(privateChat.id)[0]?.entities).toEqual([]);
    expect(bot.logs.some((line) => line.includes('HTML rejected'))).toBe(true);
  });

  it('keeps the partial answer with a note when the model fails mid-stream', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer in 2015 and financed DeepSeek himself [1].',
      chunkChars: 5,
      cutAfterChunks: 3,
    });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    expect(answer).toMatch(/^Liang Wenfeng f\n\n⚠️ /);
    expect(bot.logs.some((line) => line.includes('"incomplete":true'))).toBe(true);
  });

  it('answers with one human sentence, not silence or a stack trace, when the model rejects the key', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups, {}, {}, { apiKey: 'sk-other' });
    bot.telegram.pushMessage({ chat: group, from: ada, text: '/ask Who founded High-Flyer?' });
    const messages = await bot.messagesOnce(group.id, 1);
    expect(messages).toEqual([
      'The model provider rejected the API key. The operator needs to check LLM_API_KEY.',
    ]);
    const failed = bot.logs.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'update failed');
    expect(failed).toMatchObject({ level: 40, chatId: group.id, err: { type: 'LlmError', kind: 'auth' } });
    expect(failed.requestId).toMatch(/^[0-9a-f]{8}$/);
  });

  it('tells a user who asks too often when to come back, without calling the model', async ({ cleanups }) => {
    const bot = await start(cleanups, { RATE_LIMIT_PER_MINUTE: '1' });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.answered(privateChat.id);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who financed DeepSeek?' });
    expect((await bot.messagesOnce(privateChat.id, 2))[1]).toMatch(/Please try again in \d+ s\./);
    expect(bot.llm.requests).toHaveLength(1);
  });

  it('tells a user over the rate limit once until they may ask again, and ignores the rest silently, in a group too', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups, { RATE_LIMIT_PER_MINUTE: '1' });
    bot.telegram.pushMessage({ chat: group, from: ada, text: '/ask Who founded High-Flyer?' });
    await bot.answered(group.id);
    for (const text of ['/ask Who financed DeepSeek?', '/ask And the chips?', '/ask Hello?']) {
      bot.telegram.pushMessage({ chat: group, from: ada, text });
    }
    // One chat's messages are handled in order: once Bo is answered, Ada's three have been dealt with.
    bot.telegram.pushMessage({ chat: group, from: bo, text: '/ask Who founded High-Flyer?' });
    const messages = await bot.answered(group.id);
    expect(messages).toEqual([
      expect.stringMatching(/^According to the knowledge file/),
      expect.stringMatching(/^You're asking faster than I can answer\. Please try again in \d+ s\.$/),
      expect.stringMatching(/^According to the knowledge file/),
    ]);
    expect(bot.llm.requests).toHaveLength(2);
    const ignored = bot.logs.filter((line) => line.includes('over the rate limit again; ignored'));
    expect(ignored.map((line) => JSON.parse(line).level)).toEqual([20, 20]);
  });

  it('ignores chats outside TELEGRAM_ALLOWED_CHAT_IDS without a word', async ({ cleanups }) => {
    const bot = await start(cleanups, { TELEGRAM_ALLOWED_CHAT_IDS: String(group.id) });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    bot.telegram.pushMessage({ chat: group, from: ada, text: '/ask Who founded High-Flyer?' });
    await bot.answered(group.id);
    expect(bot.telegram.calls.filter((call) => Number(call.body.chat_id) === privateChat.id)).toEqual([]);
    expect(bot.llm.requests).toHaveLength(1);
    expect(
      bot.logs.some((line) => line.includes('TELEGRAM_ALLOWED_CHAT_IDS') && line.includes('"chatId":42')),
    ).toBe(true);
  });

  it('shows the reasoning in an expandable blockquote, and not at all with SHOW_REASONING=off', async ({
    cleanups,
  }) => {
    const shown = await start(cleanups, { SHOW_REASONING: 'collapsed' });
    shown.llm.enqueue({ reasoning: 'The passage names the founder.', content: 'Liang Wenfeng [1].' });
    shown.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    await shown.answered(privateChat.id);
    const message = shown.telegram.botMessages(privateChat.id)[0];
    expect(message?.text).toMatch(/^💭 Reasoning\nThe passage names the founder\.\n\nLiang Wenfeng \[1\]\./);
    expect(entityTypes(message?.entities ?? [])).toContain('expandable_blockquote');

    const hidden = await start(cleanups, { SHOW_REASONING: 'off' });
    hidden.llm.enqueue({ reasoning: 'The passage names the founder.', content: 'Liang Wenfeng [1].' });
    hidden.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await hidden.answered(privateChat.id);
    expect(answer).not.toContain('passage names');
  });

  it('logs a connection that keeps dropping without the token, and still tells the user', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    // The first try and both retries of the answer drop; the apology gets through.
    bot.telegram.failNext('sendMessage', 3, 'disconnect');
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const messages = await bot.messagesOnce(privateChat.id, 1);
    expect(messages).toEqual([
      'Something went wrong on my side while answering. It has been logged; please try again.',
    ]);
    const failed = bot.logs.find((line) => line.includes('"msg":"update failed"'));
    expect(failed).toContain('HttpError');
    expect(failed).toContain('bot[redacted]');
  });

  it('stops fetching updates on stop, but finishes the answer in progress', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer in 2015 [1].',
      chunkChars: 4,
      chunkDelayMs: 40,
    });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.telegram.waitFor(() => bot.telegram.callsOf('sendMessageDraft').length > 0);
    expect(bot.adapter.isConnected()).toBe(true);
    await bot.adapter.stop(5000);
    expect(bot.adapter.isConnected()).toBe(false);
    expect(bot.telegram.botMessages(privateChat.id)[0]?.text).toMatch(
      /^Liang Wenfeng founded High-Flyer in 2015 \[1\]\./,
    );
    const polls = bot.telegram.callsOf('getUpdates').length;
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Anyone there?' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bot.telegram.callsOf('getUpdates')).toHaveLength(polls);
    expect(bot.telegram.botMessages(privateChat.id)).toHaveLength(1);
  });

  it('cuts an answer short with a note when it outlasts the shutdown grace period', async ({ cleanups }) => {
    const bot = await start(cleanups);
    const content = Array.from({ length: 40 }, (_, i) => `Sentence ${i} on High-Flyer [1].`).join(' ');
    bot.llm.enqueue({ content, reasoning: '', chunkChars: 4, chunkDelayMs: 30 });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.telegram.waitFor(() => bot.telegram.callsOf('sendMessageDraft').length > 0);
    await bot.adapter.stop(200);
    const [answer] = bot.telegram.botMessages(privateChat.id).map((message) => message.text);
    expect(answer).toMatch(/^Sentence 0 on High-Flyer/);
    expect(answer).toContain(
      '⚠️ The answer was cut off because I am restarting; please ask again in a moment.',
    );
    expect(answer?.length).toBeLessThan(content.length);
  });

  it('refuses to start with a token Telegram rejects, or an unreachable API, without echoing the token', async ({
    cleanups,
  }) => {
    const telegram = await startFakeTelegram({ token });
    cleanups.push(() => telegram.close());
    const withToken = async (botToken: string, apiRoot: string) => {
      const poquan = await createPoquan(
        loadConfig({
          KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
          STORE_URL: 'memory://',
          TELEGRAM_BOT_TOKEN: botToken,
          TELEGRAM_API_ROOT: apiRoot,
        }),
        pino({ level: 'silent' }),
      );
      cleanups.push(() => poquan.close());
      return startTelegramAdapter(poquan).catch((error: Error) => error);
    };
    const rejected = await withToken('999:WRONG', telegram.url);
    expect(rejected).toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/^Telegram rejected TELEGRAM_BOT_TOKEN at start \(401 Unauthorized\)/),
    });
    const malformed = await withToken('not-a-token', telegram.url);
    expect(malformed).toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/^Telegram rejected TELEGRAM_BOT_TOKEN at start \(404 Not Found\)/),
    });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = (await withToken(token, closed)) as Error;
    const said = `Could not reach the Telegram Bot API at start (TELEGRAM_API_ROOT ${closed}): `;
    expect(unreachable.message.startsWith(said), unreachable.message).toBe(true);
    expect(unreachable.message).not.toContain(token);
    expect(unreachable.cause).toBeUndefined();
  });
});
