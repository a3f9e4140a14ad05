import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api, GrammyError } from 'grammy';
import type { Update } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeChat,
  type FakeTelegram,
  parseTelegramHtml,
  startFakeTelegram,
  telegramErrors,
} from './fake-telegram.ts';

let fake: FakeTelegram;
let api: Api;
const privateChat: FakeChat = { id: 42, type: 'private', first_name: 'Ada' };
const group: FakeChat = { id: -100, type: 'supergroup', title: 'AI watchers' };

beforeEach(async () => {
  fake = await startFakeTelegram();
  api = new Api(fake.token, { apiRoot: fake.url });
});
afterEach(async () => {
  await fake.close();
});

/** The error a call fails with, so its Telegram description can be compared. */
async function failure(call: Promise<unknown>): Promise<GrammyError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

describe('fake Telegram HTML parser', () => {
  it('decodes the supported tags and entities into text and entities', () => {
    const parsed = parseTelegramHtml(
      '<b>bold</b> &amp; <a href="https://x.test/?a=1&amp;b=2">link</a> <pre><code class="language-ts">x</code></pre> &copy;',
    );
    expect(parsed.text).toBe('bold & link x &copy;');
    expect(parsed.entities).toEqual([
      { type: 'bold', offset: 0, length: 4 },
      { type: 'text_link', offset: 7, length: 4, url: 'https://x.test/?a=1&b=2' },
      { type: 'pre', offset: 12, length: 1, language: 'ts' },
    ]);
  });

  it('accepts an expandable blockquote and a spoiler span', () => {
    const parsed = parseTelegramHtml(
      '<blockquote expandable>a</blockquote><span class="tg-spoiler">b</span>',
    );
    expect(parsed.entities.map((e) => e.type)).toEqual(['expandable_blockquote', 'spoiler']);
  });

  it.each([
    ['<script>x</script>', 'Unsupported start tag "script" at byte offset 0'],
    ['a < b', 'Unsupported start tag "" at byte offset 2'],
    ['é <x>', 'Unsupported start tag "x" at byte offset 3'],
    ['<b>open', 'Can\'t find end tag corresponding to start tag "b"'],
    ['<b>x</i>', 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'],
    ['x</b>', 'Unexpected end tag at byte offset 1'],
    ['<b', 'Unclosed start tag at byte offset 0'],
    ['<span>x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
  ])('rejects %j like Telegram: %s', (html, detail) => {
    expect(() => parseTelegramHtml(html)).toThrow(detail);
  });
});

describe('fake Telegram Bot API', () => {
  it('answers getMe for the right token, 401 for a wrong one and 404 for one not shaped like a token', async () => {
    expect(await api.getMe()).toMatchObject({ id: 123, is_bot: true, username: 'PoquanBot' });
    const wrong = new Api('999:WRONG', { apiRoot: fake.url });
    expect(await failure(wrong.getMe())).toMatchObject({ error_code: 401, description: 'Unauthorized' });
    const garbage = new Api('garbage', { apiRoot: fake.url });
    expect(await failure(garbage.getMe())).toMatchObject({ error_code: 404, description: 'Not Found' });
  });

  it('stores sent messages with parsed entities and refuses bad markup with Telegram descriptions', async () => {
    fake.pushMessage({ chat: group, text: 'hello' });
    const sent = await api.sendMessage(group.id, '<b>Hi</b> a &lt; b', { parse_mode: 'HTML' });
    expect(sent).toMatchObject({ text: 'Hi a < b', entities: [{ type: 'bold', offset: 0, length: 2 }] });
    expect(fake.botMessages(group.id).map((m) => m.text)).toEqual(['Hi a < b']);

    const rejected = await failure(api.sendMessage(group.id, '<x>y</x>', { parse_mode: 'HTML' }));
    expect(rejected.error_code).toBe(400);
    expect(rejected.description).toBe(
      'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0',
    );
    expect((await failure(api.sendMessage(group.id, '<b></b>', { parse_mode: 'HTML' }))).description).toBe(
      telegramErrors.messageTextEmpty().description,
    );
    expect((await failure(api.sendMessage(7, 'hi'))).description).toBe('Bad Request: chat not found');
  });

  it('counts the 4096 limit after entity parsing', async () => {
    fake.pushMessage({ chat: group, text: 'hello' });
    await api.sendMessage(group.id, `<b>${'a'.repeat(4096)}</b>`, { parse_mode: 'HTML' });
    const tooLong = await failure(api.sendMessage(group.id, 'a'.repeat(4097)));
    expect(tooLong.description).toBe('Bad Request: message is too long');
  });

  it('refuses an identical edit with "message is not modified" and an empty one', async () => {
    fake.pushMessage({ chat: group, text: 'hello' });
    const sent = await api.sendMessage(group.id, 'first');
    await api.editMessageText(group.id, sent.message_id, '<i>second</i>', { parse_mode: 'HTML' });
    const same = await failure(
      api.editMessageText(group.id, sent.message_id, '<i>second</i>', { parse_mode: 'HTML' }),
    );
    expect(same.description).toBe(telegramErrors.notModified().description);
    expect(same.description).toMatch(/^Bad Request: message is not modified/);
    // Same text, different formatting, is a modification.
    await api.editMessageText(group.id, sent.message_id, 'second');
    expect((await failure(api.editMessageText(group.id, sent.message_id, ' '))).description).toBe(
      'Bad Request: text must be non-empty',
    );
    expect(fake.botMessages(group.id)[0]).toMatchObject({ text: 'second', edits: 2 });
  });

  it('answers a scripted 429 with retry_after and flags a retry that came too early', async () => {
    fake.pushMessage({ chat: group, text: 'hello' });
    fake.failNext('sendMessage', 1, telegramErrors.tooManyRequests(1));
    const limited = await failure(api.sendMessage(group.id, 'x'));
    expect(limited).toMatchObject({
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });
    await failure(api.sendMessage(group.id, 'x'));
    expect(fake.callsOf('sendMessage').map((c) => c.early ?? false)).toEqual([false, true]);
  });

  it('streams drafts only in private chats and clears a draft when the message is sent', async () => {
    fake.pushMessage({ chat: privateChat, text: 'q' });
    fake.pushMessage({ chat: group, text: 'q' });
    await api.sendMessageDraft(privateChat.id, 7, '<b>par</b>tial', { parse_mode: 'HTML' });
    expect(fake.drafts.get(privateChat.id)).toEqual({ draft_id: 7, text: 'partial' });
    await api.sendMessage(privateChat.id, 'done');
    expect(fake.drafts.has(privateChat.id)).toBe(false);
    expect((await failure(api.sendMessageDraft(group.id, 7, 'x'))).description).toBe(
      'Bad Request: TEXTDRAFT_PEER_INVALID',
    );
  });

  it('answers sendMessageDraft with 404 when built as an older server', async () => {
    const old = await startFakeTelegram({ supportsDrafts: false });
    try {
      old.pushMessage({ chat: privateChat, text: 'q' });
      const oldApi = new Api(old.token, { apiRoot: old.url });
      expect(await failure(oldApi.sendMessageDraft(privateChat.id, 1, 'x'))).toMatchObject({
        error_code: 404,
      });
    } finally {
      await old.close();
    }
  });

  it('holds getUpdates until an update arrives and drops updates confirmed by the offset', async () => {
    const started = performance.now();
    const polling = api.getUpdates({ timeout: 5 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    fake.pushMessage({ chat: privateChat, text: 'first' });
    const [first] = await polling;
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(first?.message?.text).toBe('first');

    fake.pushMessage({ chat: privateChat, text: 'second' });
    expect((await api.getUpdates({ timeout: 0 })).map((u) => u.message?.text)).toEqual(['first', 'second']);
    const next = await api.getUpdates({ offset: (first?.update_id ?? 0) + 1, timeout: 0 });
    expect(next.map((u) => u.message?.text)).toEqual(['second']);
    expect(fake.pendingUpdates().map((u) => u.message?.text)).toEqual(['second']);
  });

  it('computes bot_command and mention entities for pushed messages and links replies', async () => {
    fake.pushMessage({ chat: group, text: 'hello' });
    const botMessage = await api.sendMessage(group.id, 'I am a bot');
    const command = fake.pushMessage({ chat: group, text: '/ask@PoquanBot who? @PoquanBot' });
    expect(command.entities).toEqual([
      { type: 'bot_command', offset: 0, length: 14 },
      { type: 'mention', offset: 20, length: 10 },
    ]);
    const reply = fake.pushMessage({ chat: group, text: 'and?', reply_to_message_id: botMessage.message_id });
    expect(reply.reply_to_message?.from?.id).toBe(fake.bot.id);
  });

  it('refuses getUpdates while a webhook is set, until deleteWebhook', async () => {
    const hooked = await startFakeTelegram({ webhookUrl: 'https://example.test/hook' });
    try {
      const hookedApi = new Api(hooked.token, { apiRoot: hooked.url });
      expect(await failure(hookedApi.getUpdates({ timeout: 0 }))).toMatchObject({ error_code: 409 });
      await hookedApi.deleteWebhook();
      expect(await hookedApi.getUpdates({ timeout: 0 })).toEqual([]);
    } finally {
      await hooked.close();
    }
  });
});

describe('fake Telegram webhook delivery', () => {
  /** A webhook receiver on loopback that answers `status()` and records what it got. */
  async function receiver(status: () => number = () => 200) {
    const received: Array<{ secret: string | undefined; update: Update }> = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        const secret = request.headers['x-telegram-bot-api-secret-token'];
        received.push({ secret: typeof secret === 'string' ? secret : undefined, update: JSON.parse(body) });
        response.writeHead(status()).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    return {
      url,
      received,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('posts queued updates to the registered webhook with the secret token, and reports it', async () => {
    const hook = await receiver();
    try {
      await api.setWebhook(hook.url, { secret_token: 's3cret', allowed_updates: ['message'] });
      const message = fake.pushMessage({ chat: privateChat, text: 'hello' });
      await fake.waitFor(() => hook.received.length === 1);
      expect(hook.received[0]).toMatchObject({ secret: 's3cret', update: { message: { text: 'hello' } } });
      expect(hook.received[0]?.update.message?.message_id).toBe(message.message_id);
      expect(await api.getWebhookInfo()).toEqual({
        url: hook.url,
        has_custom_certificate: false,
        pending_update_count: 0,
        max_connections: 40,
        allowed_updates: ['message'],
      });
      expect(fake.webhookSecret).toBe('s3cret');
      expect(await failure(api.getUpdates({ timeout: 0 }))).toMatchObject({ error_code: 409 });
    } finally {
      await hook.close();
    }
  });

  it('keeps an update pending with the last error while the webhook fails, and redelivers it', async () => {
    let status = 401;
    const hook = await receiver(() => status);
    try {
      await api.setWebhook(hook.url, { secret_token: 'right' });
      const update = fake.pushUpdate({
        message: fake.makeMessageUpdate({ chat: privateChat, text: 'x' }).message,
      });
      await fake.waitFor(() => fake.webhookDeliveries.length >= 1);
      expect(await api.getWebhookInfo()).toMatchObject({
        pending_update_count: 1,
        last_error_message: 'Wrong response from the webhook: 401 Unauthorized',
        last_error_date: expect.any(Number),
      });
      status = 200;
      await fake.waitFor(() => fake.webhookDeliveries.some((d) => d.status === 200));
      expect(fake.webhookDeliveries.every((d) => d.updateId === update.update_id)).toBe(true);
      expect((await api.getWebhookInfo()).pending_update_count).toBe(0);
    } finally {
      await hook.close();
    }
  });

  it('delivers a single update on demand, to any URL and with any secret, outside the queue', async () => {
    const hook = await receiver(() => 204);
    try {
      const update = fake.makeMessageUpdate({ chat: privateChat, text: 'direct' });
      expect(fake.pendingUpdates()).toEqual([]);
      expect(await fake.deliverUpdate(update, { url: hook.url, secret: null })).toBe(204);
      expect(await fake.deliverUpdate(update, { url: hook.url, secret: 'other' })).toBe(204);
      expect(hook.received.map((r) => r.secret)).toEqual([undefined, 'other']);
      expect(hook.received[1]?.update).toEqual(update);
    } finally {
      await hook.close();
    }
  });

  it('drops pending updates on request, and never leaves loopback', async () => {
    await api.setWebhook('https://bot.example.com/hook', { secret_token: 'x' });
    fake.pushMessage({ chat: privateChat, text: 'queued' });
    await fake.waitFor(() => fake.webhookDeliveries.length >= 1);
    expect(fake.webhookDeliveries[0]?.status).toBe(0);
    expect(await api.getWebhookInfo()).toMatchObject({
      pending_update_count: 1,
      last_error_message: 'Failed to resolve host: Name or service not known',
    });
    await api.deleteWebhook({ drop_pending_updates: true });
    expect(await api.getWebhookInfo()).toEqual({
      url: '',
      has_custom_certificate: false,
      pending_update_count: 0,
    });
  });

  it('refuses a webhook URL that is not HTTP(S), as Telegram does', async () => {
    expect((await failure(api.setWebhook('ftp://example.com/hook'))).description).toBe(
      'Bad Request: bad webhook: An HTTPS URL must be provided for webhook',
    );
  });
});
