import type { InlineKeyboardMarkup, User } from 'grammy/types';
import { describe, expect } from 'vitest';
import type { Poquan } from '../../src/composition-root.ts';
import type { FakeLlm } from '../fakes/fake-llm.ts';
import type { FakeChat, FakeTelegram, StoredMessage } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { type Cleanups, expectedVote, recentVotes, startTelegramHarness } from './harness.ts';

const ada: User = { id: 42, is_bot: false, first_name: 'Ada', language_code: 'en' };
const bo: User = { id: 43, is_bot: false, first_name: 'Bo', language_code: 'zh-hans' };
const privateChat: FakeChat = { id: 42, type: 'private', first_name: 'Ada' };
const group: FakeChat = { id: -1001, type: 'supergroup', title: 'AI watchers' };

interface Harness {
  telegram: FakeTelegram;
  llm: FakeLlm;
  poquan: Poquan;
  logs: string[];
  /** The bot's messages in a chat once one more answer has been fully delivered. */
  answered(chatId: number): Promise<StoredMessage[]>;
  /** Presses a vote button under `message` and waits for the bot to answer the callback query. */
  press(user: User, message: StoredMessage, vote: 'up' | 'down'): Promise<string>;
}

async function start(cleanups: Cleanups, env: Record<string, string> = {}): Promise<Harness> {
  const { telegram, llm, poquan, logs: captured } = await startTelegramHarness(cleanups, env);
  const logs = captured.lines;
  let settled = 0;
  return {
    telegram,
    llm,
    poquan,
    logs,
    async answered(chatId) {
      settled += 1;
      const target = settled;
      await telegram.waitFor(
        () => logs.filter((line) => line.includes('"msg":"delivered"')).length >= target,
      );
      return telegram.botMessages(chatId);
    },
    async press(user, message, vote) {
      const before = telegram.callsOf('answerCallbackQuery').length;
      telegram.pushCallbackQuery({ from: user, message, data: voteData(message, vote) });
      const call = await telegram.waitFor(() => telegram.callsOf('answerCallbackQuery')[before]);
      return call.body.text as string;
    },
  };
}

const keyboardOf = (message: StoredMessage | undefined): InlineKeyboardMarkup | undefined =>
  message?.reply_markup;

/** The `callback_data` of a message's 👍 or 👎 button ('' when there is none). */
function voteData(message: StoredMessage | undefined, vote: 'up' | 'down'): string {
  const button = keyboardOf(message)
    ?.inline_keyboard.flat()
    .find((b) => b.text === (vote === 'up' ? '👍' : '👎'));
  return button && 'callback_data' in button ? (button.callback_data ?? '') : '';
}

describe('Telegram feedback', () => {
  it('puts 👍 / 👎 under the last message of a finished answer only, with a short callback_data', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    const paragraphs = Array.from({ length: 12 }, (_, p) =>
      Array.from({ length: 8 }, (_, s) => `Paragraph ${p} sentence ${s} on DeepSeek's founder [1].`).join(
        ' ',
      ),
    );
    bot.llm.enqueue({ content: paragraphs.join('\n\n'), chunkChars: 400 });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const messages = await bot.answered(privateChat.id);
    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(messages.slice(0, -1).map(keyboardOf)).toEqual(messages.slice(0, -1).map(() => undefined));
    const buttons = keyboardOf(messages.at(-1))?.inline_keyboard;
    expect(buttons).toEqual([
      [
        { text: '👍', callback_data: expect.stringMatching(/^fb:[A-Za-z0-9_-]{16}:up$/) },
        { text: '👎', callback_data: expect.stringMatching(/^fb:[A-Za-z0-9_-]{16}:down$/) },
      ],
    ]);
    for (const button of buttons?.flat() ?? []) {
      expect(Buffer.byteLength((button as { callback_data: string }).callback_data)).toBeLessThanOrEqual(64);
    }
    expect(bot.telegram.calls.filter((call) => !call.ok)).toEqual([]);
  });

  it('adds the buttons with the final edit when a group answer was streamed by edits', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    bot.llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer in 2015 [1].',
      chunkChars: 6,
      chunkDelayMs: 60,
    });
    bot.telegram.pushMessage({ chat: group, from: ada, text: '/ask Who founded High-Flyer?' });
    const [answer] = await bot.answered(group.id);
    expect(keyboardOf(answer)?.inline_keyboard[0]).toHaveLength(2);
    const lastEdit = bot.telegram.callsOf('editMessageText', group.id).at(-1);
    expect(lastEdit?.body.reply_markup).toEqual(keyboardOf(answer));

    // A "not covered" answer's preview already shows its final text: the keyboard alone is reason to edit.
    const other: FakeChat = { id: -1003, type: 'supergroup', title: 'Weather' };
    bot.telegram.pushMessage({ chat: other, from: ada, text: '/ask What is the weather in Paris tomorrow?' });
    const [gap] = await bot.answered(other.id);
    expect(gap?.text).toMatch(/^The knowledge file doesn't cover that\./);
    expect(keyboardOf(gap)?.inline_keyboard[0]).toHaveLength(2);
    const [preview] = bot.telegram.callsOf('sendMessage', other.id);
    const [keyboardEdit] = bot.telegram.callsOf('editMessageText', other.id);
    expect(preview?.body.reply_markup).toBeUndefined();
    expect(keyboardEdit?.body).toMatchObject({ text: preview?.body.text, reply_markup: keyboardOf(gap) });
    expect(bot.telegram.calls.filter((call) => !call.ok)).toEqual([]);
  });

  it('records a vote with every field and acknowledges it without touching the answer', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups);
    bot.llm.enqueue({ content: 'Liang Wenfeng founded High-Flyer in 2015 [1].' });
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    const edits = bot.telegram.callsOf('editMessageText').length;
    const text = answer?.text;

    expect(await bot.press(ada, answer as StoredMessage, 'up')).toBe('Thanks for the feedback! 👍');

    const [vote, ...others] = await recentVotes(bot.poquan);
    expect(others).toEqual([]);
    expect(vote).toEqual(
      expectedVote({
        answerId: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
        platform: 'telegram',
        conversationId: 'telegram:42',
        question: 'Who founded High-Flyer?',
        knowledgeVersion: bot.poquan.knowledge().version,
        vote: 'up',
      }),
    );
    expect(keyboardOf(answer)?.inline_keyboard[0]?.[0]).toMatchObject({
      callback_data: `fb:${vote?.answerId}:up`,
    });
    expect(bot.telegram.botMessages(privateChat.id)).toHaveLength(1);
    expect(bot.telegram.botMessages(privateChat.id)[0]?.text).toBe(text);
    expect(bot.telegram.callsOf('editMessageText')).toHaveLength(edits);
    expect(await bot.poquan.metrics.registry.metrics()).toMatch(
      /poquan_feedback_votes_total\{platform="telegram",vote="up",change="false"\} 1/,
    );
  });

  it('changes the vote on a second press, and a 👎 brings one hand-off reply however many vote 👎', async ({
    cleanups,
  }) => {
    const bot = await start(cleanups, { HANDOFF_TELEGRAM_USERNAME: '@poquan_help' });
    bot.telegram.pushMessage({ chat: group, from: ada, text: '/ask Who founded High-Flyer?' });
    const [answer] = await bot.answered(group.id);
    expect(answer?.text).not.toContain('poquan_help');

    expect(await bot.press(ada, answer as StoredMessage, 'up')).toBe('Thanks for the feedback! 👍');
    expect(await bot.press(ada, answer as StoredMessage, 'down')).toBe('Vote changed. Thanks! 👎');
    expect(await bot.press(ada, answer as StoredMessage, 'down')).toBe('You already rated this answer. 👎');
    expect(await bot.press(bo, answer as StoredMessage, 'down')).toBe('感谢反馈！ 👎');

    const votes = await recentVotes(bot.poquan);
    expect(votes.map((v) => v.vote)).toEqual(['down', 'down']);
    expect(new Set(votes.map((v) => v.userHash)).size).toBe(2);

    const handoffs = await bot.telegram.waitFor(() => {
      const sent = bot.telegram.botMessages(group.id).slice(1);
      return sent.length > 0 && sent;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bot.telegram.botMessages(group.id).slice(1)).toEqual(handoffs);
    expect(handoffs).toHaveLength(1);
    expect(handoffs[0]).toMatchObject({
      text: 'Not what you needed? Ask @poquan_help — a person can help.',
      reply_to_message_id: answer?.message_id,
    });
    expect(bot.telegram.botMessages(group.id)[0]?.text).toBe(answer?.text);
  });

  it('invites a human in a "not covered" answer, and only when a hand-off user is set', async ({
    cleanups,
  }) => {
    const withHandoff = await start(cleanups, { HANDOFF_TELEGRAM_USERNAME: 'poquan_help' });
    withHandoff.telegram.pushMessage({
      chat: privateChat,
      from: ada,
      text: 'What is the weather in Paris tomorrow?',
    });
    const [answer] = await withHandoff.answered(privateChat.id);
    expect(answer?.text).toMatch(/^The knowledge file doesn't cover that\./);
    expect(answer?.text).toMatch(/\n\nNot what you needed\? Ask @poquan_help — a person can help\.$/);
    expect(keyboardOf(answer)?.inline_keyboard[0]).toHaveLength(2);
    expect(withHandoff.llm.requests).toHaveLength(0);
    // The answer already offers a human; a 👎 does not repeat it.
    await withHandoff.press(ada, answer as StoredMessage, 'down');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(withHandoff.telegram.botMessages(privateChat.id)).toHaveLength(1);
    const [vote] = await recentVotes(withHandoff.poquan);
    expect(vote).toMatchObject({ notCovered: true, passageIds: [], vote: 'down' });

    const without = await start(cleanups);
    without.telegram.pushMessage({
      chat: privateChat,
      from: ada,
      text: 'What is the weather in Paris tomorrow?',
    });
    const [plain] = await without.answered(privateChat.id);
    expect(plain?.text).not.toContain('person can help');
  });

  it('counts a press only under the answer, in the chat it was given in', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    bot.telegram.pushMessage({ chat: group, from: bo, text: '/ask Who founded High-Flyer?' });
    const [groupAnswer] = await bot.answered(group.id);
    // A forged press: the group's answer message, carrying the private answer's button data.
    bot.telegram.pushUpdate({
      callback_query: {
        id: 'forged-1',
        from: bo,
        message: { ...(groupAnswer as StoredMessage), reply_markup: undefined },
        chat_instance: 'forged',
        data: voteData(answer, 'down'),
      },
    } as never);
    const acknowledged = await bot.telegram.waitFor(() =>
      bot.telegram.callsOf('answerCallbackQuery').find((call) => call.body.callback_query_id === 'forged-1'),
    );
    expect(acknowledged.body.text).toBe('这个回答太久了，无法评价。');
    expect(await recentVotes(bot.poquan)).toEqual([]);
  });

  it('tells the voter when the answer is too old to rate', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.answered(privateChat.id);
    const answerId = /^fb:(.+):up$/.exec(voteData(answer, 'up'))?.[1];
    // What FEEDBACK_RETENTION_DAYS does to an old answer.
    await bot.poquan.store.delete(`feedback:answer:${answerId}`);
    expect(await bot.press(ada, answer as StoredMessage, 'up')).toBe('This answer is too old to rate.');
    expect(await recentVotes(bot.poquan)).toEqual([]);
  });

  it('shows the knowledge version of the last answer in /sources', async ({ cleanups }) => {
    const bot = await start(cleanups);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.answered(privateChat.id);
    bot.telegram.pushMessage({ chat: privateChat, from: ada, text: '/sources' });
    const sources = await bot.telegram.waitFor(() => bot.telegram.botMessages(privateChat.id)[1]);
    expect(sources.text).toContain(`Knowledge version ${bot.poquan.knowledge().version}`);
    expect(keyboardOf(sources)).toBeUndefined();
  });
});
