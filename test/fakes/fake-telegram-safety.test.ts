import { Api, GrammyError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeChat, type FakeTelegram, startFakeTelegram, telegramErrors } from './fake-telegram.ts';

/**
 * The parts of the fake the reliability and security specs lean on: mentions found the way Telegram finds them
 * in a bot's message, text that is not valid Unicode refused, a chat that blocked the bot, a message deleted
 * by its user.
 */

let fake: FakeTelegram;
let api: Api;
const group: FakeChat = { id: -100, type: 'supergroup', title: 'AI watchers' };

beforeEach(async () => {
  fake = await startFakeTelegram();
  api = new Api(fake.token, { apiRoot: fake.url });
  fake.pushMessage({ chat: group, text: 'hello' });
});
afterEach(() => fake.close());

async function failure(call: Promise<unknown>): Promise<GrammyError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

describe('fake Telegram, for safety specs', () => {
  it('finds @username mentions in what the bot sends, but not in code, links, e-mail or after a word joiner', async () => {
    const sent = await api.sendMessage(
      group.id,
      'Hi @alice_smith and @\u2060bobby_b, see <code>@Override</code>, <a href="https://x.example">@carol_c</a>, a@example.com',
      { parse_mode: 'HTML' },
    );
    expect(sent.entities?.filter((e) => e.type === 'mention')).toEqual([
      { type: 'mention', offset: 3, length: 12 },
    ]);
  });

  it('turns a tg://user link into a text_mention, as Telegram does', async () => {
    const sent = await api.sendMessage(group.id, '<a href="tg://user?id=42">Ada</a>', { parse_mode: 'HTML' });
    expect(sent.entities).toEqual([
      { type: 'text_mention', offset: 0, length: 3, user: { id: 42, is_bot: false, first_name: '' } },
    ]);
  });

  it('refuses text holding half an emoji', async () => {
    const error = await failure(api.sendMessage(group.id, 'cut \ud83d'));
    expect(error.description).toBe('Bad Request: strings must be encoded in UTF-8');
  });

  it('answers 403 for a chat that blocked the bot, until it unblocks it', async () => {
    fake.setBlocked(group.id, true);
    const error = await failure(api.sendMessage(group.id, 'hi'));
    expect({ code: error.error_code, description: error.description }).toEqual({
      code: 403,
      description: telegramErrors.botBlocked().description,
    });
    fake.setBlocked(group.id, false);
    expect((await api.sendMessage(group.id, 'hi')).text).toBe('hi');
  });

  it('refuses to edit a message its user deleted', async () => {
    const sent = await api.sendMessage(group.id, 'draft');
    fake.deleteMessage(group.id, sent.message_id);
    const error = await failure(api.editMessageText(group.id, sent.message_id, 'final'));
    expect(error.description).toBe(telegramErrors.messageToEditNotFound().description);
  });
});
