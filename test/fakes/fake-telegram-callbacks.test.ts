import { Api, GrammyError } from 'grammy';
import type { Update } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeChat, type FakeTelegram, startFakeTelegram } from './fake-telegram.ts';

let fake: FakeTelegram;
let api: Api;
const chat: FakeChat = { id: 42, type: 'private', first_name: 'Ada' };
const ada = { id: 42, is_bot: false, first_name: 'Ada' };
const keyboard = { inline_keyboard: [[{ text: '👍', callback_data: 'fb:abc:up' }]] };

beforeEach(async () => {
  fake = await startFakeTelegram();
  api = new Api(fake.token, { apiRoot: fake.url });
  fake.pushMessage({ chat, from: ada, text: 'hello' });
});
afterEach(async () => {
  await fake.close();
});

async function failure(call: Promise<unknown>): Promise<GrammyError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

describe('fake Telegram inline keyboards and callback queries', () => {
  it('keeps a keyboard through sends, drops it on an edit that omits it, and counts it in "not modified"', async () => {
    const sent = await api.sendMessage(chat.id, 'answer', { reply_markup: keyboard });
    expect(sent.reply_markup).toEqual(keyboard);
    const notModified = await failure(
      api.editMessageText(chat.id, sent.message_id, 'answer', { reply_markup: keyboard }),
    );
    expect(notModified.description).toMatch(/message is not modified/);
    await api.editMessageText(chat.id, sent.message_id, 'answer');
    expect(fake.botMessages(chat.id)[0]?.reply_markup).toBeUndefined();
  });

  it('rejects callback_data over 64 bytes and buttons that do nothing, as Telegram does', async () => {
    const long = { inline_keyboard: [[{ text: 'x', callback_data: 'é'.repeat(33) }]] };
    expect((await failure(api.sendMessage(chat.id, 'a', { reply_markup: long }))).description).toBe(
      'Bad Request: BUTTON_DATA_INVALID',
    );
    const inert = { inline_keyboard: [[{ text: 'x' }]] } as never;
    expect((await failure(api.sendMessage(chat.id, 'a', { reply_markup: inert }))).description).toBe(
      'Bad Request: text buttons are unallowed in the inline keyboard',
    );
  });

  it('delivers a press as a callback_query update that can be answered once', async () => {
    await api.sendMessage(chat.id, 'answer', { reply_markup: keyboard });
    const message = fake.botMessages(chat.id)[0];
    if (!message) throw new Error('no message');
    const query = fake.pushCallbackQuery({ from: ada, message, data: 'fb:abc:up' });
    const updates = (await api.getUpdates({ allowed_updates: ['message', 'callback_query'] })) as Update[];
    expect(updates.at(-1)?.callback_query).toMatchObject({
      id: query.id,
      data: 'fb:abc:up',
      message: { message_id: message.message_id, reply_markup: keyboard },
    });
    expect(await api.answerCallbackQuery(query.id, { text: 'Thanks!' })).toBe(true);
    expect((await failure(api.answerCallbackQuery(query.id))).description).toMatch(/query is too old/);
    expect(() => fake.pushCallbackQuery({ from: ada, message, data: 'fb:abc:down' })).toThrow(/no button/);
  });

  it('drops updates of a type the bot did not ask for in allowed_updates', async () => {
    await api.getUpdates({ allowed_updates: ['message'], offset: 2 });
    await api.sendMessage(chat.id, 'answer', { reply_markup: keyboard });
    const message = fake.botMessages(chat.id)[0];
    if (!message) throw new Error('no message');
    fake.pushCallbackQuery({ from: ada, message, data: 'fb:abc:up' });
    expect(fake.pendingUpdates()).toEqual([]);
  });
});
