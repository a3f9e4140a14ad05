import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type {
  CallbackQuery,
  Chat,
  InlineKeyboardMarkup,
  Message,
  MessageEntity,
  Update,
  User,
} from 'grammy/types';

/**
 * A loopback Telegram Bot API server for tests: grammY talks to it through `apiRoot` exactly as it would to
 * Telegram's (`${apiRoot}/bot${token}/${method}`, JSON, form or query parameters). It keeps chats and
 * their messages, long-polls `getUpdates` with real offset semantics, validates HTML the way Telegram's parser
 * does, and answers with Telegram's own error shapes and descriptions.
 * See the Bot API documentation: "Making requests".
 */

/** One API call as the fake received it, with what it answered. */
export interface RecordedCall {
  method: string;
  // biome-ignore lint/suspicious/noExplicitAny: request parameters are arbitrary JSON, read field by field in tests.
  body: any;
  /** `performance.now()` when the call arrived. */
  at: number;
  ok: boolean;
  error_code?: number;
  description?: string;
  /** True for a call that arrived while a 429 it had received still forbade it (retry_after not honoured). */
  early?: boolean;
}

/** Telegram's error envelope. */
export interface TelegramErrorBody {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** Builds an error body as Telegram sends it. */
export function telegramError(
  error_code: number,
  description: string,
  parameters?: TelegramErrorBody['parameters'],
): TelegramErrorBody {
  return parameters
    ? { ok: false, error_code, description, parameters }
    : { ok: false, error_code, description };
}

/** The errors the adapter must survive, worded exactly as the Bot API words them. */
export const telegramErrors = {
  tooManyRequests: (retryAfter: number) =>
    telegramError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter }),
  notModified: () =>
    telegramError(
      400,
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    ),
  cantParseEntities: (detail: string) => telegramError(400, `Bad Request: can't parse entities: ${detail}`),
  tooLong: () => telegramError(400, 'Bad Request: message is too long'),
  messageTextEmpty: () => telegramError(400, 'Bad Request: message text is empty'),
  textMustBeNonEmpty: () => telegramError(400, 'Bad Request: text must be non-empty'),
  chatNotFound: () => telegramError(400, 'Bad Request: chat not found'),
  draftPeerInvalid: () => telegramError(400, 'Bad Request: TEXTDRAFT_PEER_INVALID'),
  buttonDataInvalid: () => telegramError(400, 'Bad Request: BUTTON_DATA_INVALID'),
  queryTooOld: () =>
    telegramError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid'),
  notFound: () => telegramError(404, 'Not Found'),
  unauthorized: () => telegramError(401, 'Unauthorized'),
  serverError: () => telegramError(500, 'Internal Server Error'),
  botBlocked: () => telegramError(403, 'Forbidden: bot was blocked by the user'),
  messageToEditNotFound: () => telegramError(400, 'Bad Request: message to edit not found'),
};

/** A chat as tests describe it; `is_forum` makes a supergroup with topics. */
export type FakeChat = Chat.PrivateChat | Chat.GroupChat | Chat.SupergroupChat;

/** A message the fake stores: what the chat shows now. */
export interface StoredMessage {
  message_id: number;
  chat: FakeChat;
  from: User;
  text: string;
  entities: MessageEntity[];
  message_thread_id?: number;
  reply_to_message_id?: number;
  /** The inline keyboard under the message, as the last send or edit left it. */
  reply_markup?: InlineKeyboardMarkup;
  edits: number;
  deleted: boolean;
}

/** What `pushMessage` accepts: the parts of an incoming message a test cares about. */
export interface IncomingText {
  chat: FakeChat;
  from?: User;
  text: string;
  /** Computed like Telegram does (`bot_command` at the start, `@mentions`) when absent. */
  entities?: MessageEntity[];
  /** The id of a stored message in the same chat this one replies to. */
  reply_to_message_id?: number;
  message_thread_id?: number;
}

/** Options for `startFakeTelegram`. */
export interface FakeTelegramOptions {
  token?: string;
  botUsername?: string;
  /** False makes `sendMessageDraft` answer 404 like a Bot API server older than 9.3. */
  supportsDrafts?: boolean;
  /** A webhook URL already set: `getUpdates` answers 409 until `deleteWebhook` is called. */
  webhookUrl?: string;
  /** How long the fake waits before redelivering after a failed webhook delivery (ms; Telegram waits longer). */
  webhookRetryMs?: number;
  /**
   * The first `update_id` (default 1). Update ids count per bot: two fakes standing for one bot's traffic split
   * over two instances must not hand out the same ids, as Telegram never would.
   */
  firstUpdateId?: number;
}

/** One webhook POST the fake made. */
export interface WebhookDelivery {
  updateId: number;
  url: string;
  /** The HTTP status the webhook answered; 0 when there was no answer (refused, unreachable, timed out). */
  status: number;
  /** `performance.now()` when the POST was sent. */
  at: number;
}

/** The running fake and what tests can do with it. */
export interface FakeTelegram {
  /** The `apiRoot` to give grammY (no trailing slash). */
  url: string;
  token: string;
  bot: User;
  calls: RecordedCall[];
  /** Commands registered with `setMyCommands`, keyed by `language_code` ('' for the default). */
  commands: Map<string, Array<{ command: string; description: string }>>;
  /** The latest draft per chat, as `sendMessageDraft` left it; cleared when the bot sends a message. */
  drafts: Map<number, { draft_id: number; text: string }>;
  webhookUrl: string;
  /** The secret token of the registered webhook ('' when none). */
  webhookSecret: string;
  /**
   * Every webhook POST, in order. While a webhook is set (`setWebhook`), queued updates are POSTed to it one at a
   * time, as JSON with `X-Telegram-Bot-Api-Secret-Token`; any non-2xx answer is recorded as `last_error_message`
   * and the update is redelivered after `webhookRetryMs`. Only loopback hosts are contacted: any other host fails
   * like a name that does not resolve.
   */
  webhookDeliveries: WebhookDelivery[];
  /**
   * Stores an incoming text message in its chat and returns the update Telegram would send for it, without
   * queueing it: for tests that deliver it themselves with `deliverUpdate`.
   */
  makeMessageUpdate(incoming: IncomingText): Update;
  /**
   * POSTs one update the way webhook delivery does, outside the queue: to `url` (default: the registered webhook)
   * with `secret` (default: the registered one; `null` sends no header). Resolves with the response status.
   */
  deliverUpdate(update: Update, options?: { url?: string; secret?: string | null }): Promise<number>;
  /** Queues an incoming text message as an update and returns the message as the bot will see it. */
  pushMessage(incoming: IncomingText): Message;
  /**
   * Queues any update (an `update_id` is assigned). Like Telegram, an update of a type left out of the bot's
   * latest `allowed_updates` is dropped.
   */
  pushUpdate(update: Omit<Update, 'update_id'>): Update;
  /**
   * A user presses an inline button (`data` is its `callback_data`) under one of the bot's messages: queues a
   * `callback_query` update. Throws if the message carries no button with that data, as a user can't press it.
   */
  pushCallbackQuery(input: { from: User; message: StoredMessage; data: string }): CallbackQuery;
  /**
   * Answers the next `count` calls of `method` ('*' for any method but getUpdates) with `error`, or with a
   * dropped connection for `'disconnect'`. A 429 also refuses the method until its `retry_after` has passed.
   */
  failNext(method: string, count: number, error: TelegramErrorBody | 'disconnect'): void;
  /**
   * Carries out the next call of `method` (a sent message is in the chat at once) but holds its answer back until
   * `release` is called, as when the bot's process stalls or dies before it reads the answer. `arrived` resolves
   * once the call was carried out.
   */
  holdNext(method: string): { arrived: Promise<void>; release(): void };
  /** A user deletes a message in a chat (e.g. the bot's answer while it is still being edited). */
  deleteMessage(chatId: number, messageId: number): void;
  /** The user blocks the bot (`true`) or unblocks it: meanwhile every call to that chat answers 403. */
  setBlocked(chatId: number, blocked: boolean): void;
  /** Messages the bot sent to a chat (in a topic, when given), as they look now. */
  botMessages(chatId: number, threadId?: number): StoredMessage[];
  /** Calls of one method, optionally to one chat. */
  callsOf(method: string, chatId?: number): RecordedCall[];
  /** Resolves with the first truthy value of `check`, tried after every call and every 20 ms; rejects after `timeoutMs`. */
  waitFor<T>(check: () => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  /** `performance.now()` when an update was first handed to the bot by `getUpdates`. */
  deliveredAt(updateId: number): number | undefined;
  /** Updates queued and not yet confirmed by a later `getUpdates` offset. */
  pendingUpdates(): Update[];
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: parameters arrive as untyped JSON.
type Params = Record<string, any>;
type Reply = { ok: true; result: unknown } | TelegramErrorBody;

const allowedTags = new Set(
  'b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji tg-time'.split(' '),
);
const entityPattern = /&(#x[0-9a-fA-F]{1,8}|#[0-9]{1,8}|[a-zA-Z]+);?/y;
const namedEntities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
const chatAction =
  /^(typing|choose_sticker|find_location|(upload|record)_(photo|video|voice|document|video_note))$/;

/** Raised by the HTML parser with the detail Telegram puts after "can't parse entities: ". */
class EntityParseError extends Error {}

const entityTypes: Record<string, MessageEntity['type']> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  span: 'spoiler',
  'tg-spoiler': 'spoiler',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
};

/**
 * Telegram's HTML parse mode (as in TDLib's `parse_html`): only the documented tags, attributes in quotes or
 * as name tokens, `&lt; &gt; &amp; &quot;` and numeric entities decoded (any other `&` stays literal), every
 * tag closed in order. Returns the visible text and its entities, or throws with Telegram's error detail.
 * See the Bot API documentation: "HTML style".
 */
export function parseTelegramHtml(html: string): { text: string; entities: MessageEntity[] } {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: Array<{ name: string; start: number; attributes: Record<string, string> }> = [];
  const byteOffset = (index: number) => Buffer.byteLength(html.slice(0, index));
  let i = 0;
  while (i < html.length) {
    const char = html[i] as string;
    if (char === '&') {
      entityPattern.lastIndex = i;
      const match = entityPattern.exec(html);
      const name = match?.[1];
      let decoded: string | undefined;
      if (name?.startsWith('#')) {
        const code =
          name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
        if (code > 0 && code < 0x10ffff) decoded = String.fromCodePoint(code);
      } else if (name) {
        decoded = namedEntities[name];
      }
      if (match && decoded !== undefined) {
        text += decoded;
        i += match[0].length;
      } else {
        text += char;
        i += 1;
      }
      continue;
    }
    if (char !== '<') {
      text += char;
      i += 1;
      continue;
    }
    const begin = i;
    if (html[i + 1] === '/') {
      let end = i + 2;
      while (end < html.length && !/[\s>]/.test(html[end] as string)) end += 1;
      const name = html.slice(i + 2, end).toLowerCase();
      while (end < html.length && /\s/.test(html[end] as string)) end += 1;
      if (html[end] !== '>')
        throw new EntityParseError(`Unclosed end tag at byte offset ${byteOffset(begin)}`);
      const open = stack.pop();
      if (!open) throw new EntityParseError(`Unexpected end tag at byte offset ${byteOffset(begin)}`);
      if (name && name !== open.name) {
        throw new EntityParseError(
          `Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${open.name}>", found "</${name}>"`,
        );
      }
      closeEntity(open, text, entities);
      i = end + 1;
      continue;
    }
    let end = i + 1;
    while (end < html.length && !/[\s>]/.test(html[end] as string)) end += 1;
    if (end >= html.length)
      throw new EntityParseError(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
    const name = html.slice(i + 1, end).toLowerCase();
    if (!allowedTags.has(name)) {
      throw new EntityParseError(`Unsupported start tag "${name}" at byte offset ${byteOffset(begin)}`);
    }
    const attributes: Record<string, string> = {};
    for (;;) {
      while (end < html.length && /\s/.test(html[end] as string)) end += 1;
      if (end >= html.length)
        throw new EntityParseError(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      if (html[end] === '>') break;
      const attributeStart = end;
      while (end < html.length && !/[\s=>]/.test(html[end] as string)) end += 1;
      const attribute = html.slice(attributeStart, end).toLowerCase();
      while (end < html.length && /\s/.test(html[end] as string)) end += 1;
      if (html[end] !== '=') {
        if (name === 'blockquote' && attribute === 'expandable') {
          attributes.expandable = '';
          continue;
        }
        throw new EntityParseError(
          `Expected equal sign in declaration of an attribute of the tag "${name}" at byte offset ${byteOffset(begin)}`,
        );
      }
      end += 1;
      while (end < html.length && /\s/.test(html[end] as string)) end += 1;
      const quote = html[end];
      let value = '';
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, end + 1);
        if (close < 0) throw new EntityParseError(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
        value = html
          .slice(end + 1, close)
          .replace(/&(lt|gt|amp|quot);/g, (_, entity: string) => namedEntities[entity] ?? '');
        end = close + 1;
      } else {
        const tokenStart = end;
        while (end < html.length && /[\w.-]/.test(html[end] as string)) end += 1;
        value = html.slice(tokenStart, end).toLowerCase();
        if (end < html.length && !/[\s>]/.test(html[end] as string)) {
          throw new EntityParseError(`Unexpected end of name token at byte offset ${byteOffset(tokenStart)}`);
        }
      }
      attributes[attribute] = value;
    }
    if (name === 'span' && attributes.class !== 'tg-spoiler') {
      throw new EntityParseError(
        `Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`,
      );
    }
    stack.push({ name, start: text.length, attributes });
    i = end + 1;
  }
  const unclosed = stack.at(-1);
  if (unclosed)
    throw new EntityParseError(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  return { text, entities: entities.sort((a, b) => a.offset - b.offset || b.length - a.length) };
}

function closeEntity(
  open: { name: string; start: number; attributes: Record<string, string> },
  text: string,
  entities: MessageEntity[],
): void {
  const length = text.length - open.start;
  if (length === 0) return;
  const offset = open.start;
  if (open.name === 'a') {
    const url = open.attributes.href ?? '';
    // An inline mention: Telegram turns the link into a mention that notifies that user.
    const mentioned = /^tg:\/\/user\?id=(\d+)$/i.exec(url)?.[1];
    if (mentioned) {
      const user = { id: Number(mentioned), is_bot: false, first_name: '' };
      entities.push({ type: 'text_mention', offset, length, user });
    } else if (/^(https?|tg):\/\/\S+$/i.test(url)) entities.push({ type: 'text_link', offset, length, url });
    return;
  }
  if (open.name === 'blockquote') {
    entities.push({
      type: 'expandable' in open.attributes ? 'expandable_blockquote' : 'blockquote',
      offset,
      length,
    });
    return;
  }
  if (open.name === 'pre' || open.name === 'code') {
    const language = /^language-(.+)$/.exec(open.attributes.class ?? '')?.[1];
    // <pre><code class="language-x"> becomes one pre entity with a language, as Telegram does.
    const inner = entities.at(-1);
    if (open.name === 'pre' && inner?.type === 'code' && inner.offset === offset && inner.length === length) {
      entities.pop();
      const innerLanguage = (inner as { language?: string }).language;
      entities.push(
        innerLanguage
          ? { type: 'pre', offset, length, language: innerLanguage }
          : { type: 'pre', offset, length },
      );
      return;
    }
    if (open.name === 'code' && language) {
      entities.push({ type: 'code', offset, length, language } as MessageEntity);
      return;
    }
  }
  const type = entityTypes[open.name];
  if (type) entities.push({ type, offset, length } as MessageEntity);
}

/**
 * `@username` mentions Telegram finds in the text of a message the bot sends, as it does for any message: each
 * one links (and, in a group, notifies) that user. Text inside code, pre and links is left alone.
 */
function detectMentions(parsed: { text: string; entities: MessageEntity[] }): MessageEntity[] {
  const opaque = parsed.entities.filter((e) =>
    ['code', 'pre', 'text_link', 'text_mention', 'url'].includes(e.type),
  );
  const mentions: MessageEntity[] = [];
  for (const match of parsed.text.matchAll(/(^|[^\w/@])(@[a-zA-Z0-9_]{5,32})(?![\w@])/g)) {
    const offset = match.index + (match[1] as string).length;
    if (opaque.some((e) => offset >= e.offset && offset < e.offset + e.length)) continue;
    mentions.push({ type: 'mention', offset, length: (match[2] as string).length });
  }
  return [...parsed.entities, ...mentions].sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/** Entities Telegram computes for a text a user typed: a leading bot command and @mentions. */
function autoEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  const command = /^\/[a-zA-Z0-9_]{1,32}(@[a-zA-Z0-9_]{5,32})?/.exec(text);
  if (command) entities.push({ type: 'bot_command', offset: 0, length: command[0].length });
  for (const mention of text.matchAll(/(^|[^\w/])(@[a-zA-Z0-9_]{5,32})/g)) {
    entities.push({
      type: 'mention',
      offset: mention.index + (mention[1] as string).length,
      length: (mention[2] as string).length,
    });
  }
  return entities;
}

function errorFields(error: TelegramErrorBody) {
  return { ok: false, error_code: error.error_code, description: error.description };
}

async function readParams(request: IncomingMessage): Promise<Params> {
  const query = Object.fromEntries(new URL(request.url ?? '/', 'http://127.0.0.1').searchParams);
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  const type = request.headers['content-type'] ?? '';
  if (!raw) return query;
  if (type.includes('application/json')) return { ...query, ...JSON.parse(raw) };
  if (type.includes('application/x-www-form-urlencoded')) {
    const form: Params = Object.fromEntries(new URLSearchParams(raw));
    for (const [key, value] of Object.entries(form)) {
      if (typeof value === 'string' && /^[[{]/.test(value)) form[key] = JSON.parse(value);
    }
    return { ...query, ...form };
  }
  throw new Error(`fake-telegram: unsupported content type ${type}`);
}

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const token = options.token ?? '123:TEST';
  const botId = Number(token.split(':')[0]) || 123;
  const bot: User = {
    id: botId,
    is_bot: true,
    first_name: 'Poquan',
    username: options.botUsername ?? 'PoquanBot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
  } as User;
  const supportsDrafts = options.supportsDrafts ?? true;
  const calls: RecordedCall[] = [];
  const chats = new Map<number, { chat: FakeChat; messages: StoredMessage[]; nextId: number }>();
  const updates: Update[] = [];
  const failures: Array<{ method: string; count: number; error: TelegramErrorBody | 'disconnect' }> = [];
  const floodUntil = new Map<string, number>();
  const holds: Array<{ method: string; arrive(): void; released: Promise<void> }> = [];
  const blockedChats = new Set<number>();
  const commands = new Map<string, Array<{ command: string; description: string }>>();
  const drafts = new Map<number, { draft_id: number; text: string }>();
  const watchers = new Set<() => void>();
  const deliveredAt = new Map<number, number>();
  let poller: { limit: number; respond(updates: Update[]): void } | undefined;
  let nextUpdateId = options.firstUpdateId ?? 1;
  const state = {
    webhookUrl: options.webhookUrl ?? '',
    webhookSecret: '',
    maxConnections: 40,
    lastError: undefined as { date: number; message: string } | undefined,
    closed: false,
  };
  const webhookDeliveries: WebhookDelivery[] = [];
  let webhookDelivering = false;
  let webhookRetry: NodeJS.Timeout | undefined;
  // Telegram's default when a bot never said: every update type except these three.
  const notByDefault = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);
  let allowedUpdates: string[] | undefined;
  const callbackQueries = new Map<string, { answered: boolean }>();
  let nextCallbackId = 1;

  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };

  const chatOf = (chat: FakeChat) => {
    let entry = chats.get(chat.id);
    if (!entry) {
      entry = { chat, messages: [], nextId: 1 };
      chats.set(chat.id, entry);
    }
    return entry;
  };

  const toMessage = (stored: StoredMessage, withReply = true): Message => {
    const entry = chats.get(stored.chat.id);
    const replied = stored.reply_to_message_id
      ? entry?.messages.find((m) => m.message_id === stored.reply_to_message_id)
      : undefined;
    const isTopic = Boolean(stored.message_thread_id && 'is_forum' in stored.chat && stored.chat.is_forum);
    return {
      message_id: stored.message_id,
      date: Math.floor(Date.now() / 1000),
      chat: stored.chat,
      from: stored.from,
      text: stored.text,
      ...(stored.entities.length > 0 ? { entities: stored.entities } : {}),
      ...(stored.message_thread_id ? { message_thread_id: stored.message_thread_id } : {}),
      ...(isTopic ? { is_topic_message: true } : {}),
      ...(replied && withReply ? { reply_to_message: toMessage(replied, false) } : {}),
      ...(stored.reply_markup ? { reply_markup: stored.reply_markup } : {}),
    } as Message;
  };

  const handOut = (batch: Update[]) => {
    for (const update of batch)
      if (!deliveredAt.has(update.update_id)) deliveredAt.set(update.update_id, performance.now());
    return batch;
  };

  const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

  /** One POST to a webhook; resolves with the status, or 0 when nothing answered. */
  const postUpdate = async (url: string, update: Update, secret: string | null): Promise<number> => {
    const at = performance.now();
    let status = 0;
    if (isLoopback(url)) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
          },
          body: JSON.stringify(update),
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
    }
    webhookDeliveries.push({ updateId: update.update_id, url, status, at });
    notify();
    return status;
  };

  /** Delivers queued updates to the registered webhook in order, as Telegram does, retrying after a failure. */
  const deliverToWebhook = async () => {
    if (webhookDelivering) return;
    webhookDelivering = true;
    clearTimeout(webhookRetry);
    try {
      while (state.webhookUrl && !state.closed && updates.length > 0) {
        const update = updates[0] as Update;
        handOut([update]);
        const url = state.webhookUrl;
        const status = await postUpdate(url, update, state.webhookSecret || null);
        if (status >= 200 && status < 300) {
          if (updates[0] === update) updates.shift();
          continue;
        }
        state.lastError = {
          date: Math.floor(Date.now() / 1000),
          message:
            status === 0
              ? isLoopback(url)
                ? 'Connection refused'
                : 'Failed to resolve host: Name or service not known'
              : `Wrong response from the webhook: ${status} ${STATUS_CODES[status] ?? ''}`.trim(),
        };
        if (!state.closed)
          webhookRetry = setTimeout(() => void deliverToWebhook(), options.webhookRetryMs ?? 100);
        return;
      }
    } finally {
      webhookDelivering = false;
    }
  };

  const deliverUpdates = () => {
    if (state.webhookUrl) return void deliverToWebhook();
    if (!poller || updates.length === 0) return;
    const current = poller;
    poller = undefined;
    current.respond(handOut(updates.slice(0, current.limit)));
  };

  /** Stores a message a user sent in its chat; returns it as the bot will see it. */
  const storeIncoming = (incoming: IncomingText): Message => {
    const entry = chatOf(incoming.chat);
    const stored: StoredMessage = {
      message_id: entry.nextId++,
      chat: incoming.chat,
      from: incoming.from ?? { id: 42, is_bot: false, first_name: 'Ada', language_code: 'en' },
      text: incoming.text,
      entities: incoming.entities ?? autoEntities(incoming.text),
      edits: 0,
      deleted: false,
      ...(incoming.message_thread_id ? { message_thread_id: incoming.message_thread_id } : {}),
      ...(incoming.reply_to_message_id ? { reply_to_message_id: incoming.reply_to_message_id } : {}),
    };
    entry.messages.push(stored);
    return toMessage(stored);
  };

  const pushUpdate = (update: Omit<Update, 'update_id'>): Update => {
    const full = { update_id: nextUpdateId++, ...update } as Update;
    const kind = Object.keys(update)[0] ?? '';
    if (allowedUpdates ? !allowedUpdates.includes(kind) : notByDefault.has(kind)) return full;
    updates.push(full);
    deliverUpdates();
    return full;
  };

  const parseText = (params: Params, emptyError: () => TelegramErrorBody) => {
    const raw = typeof params.text === 'string' ? params.text : '';
    // A lone surrogate (e.g. an emoji cut in half) arrives as a `\ud83d` escape that is not valid Unicode.
    if (!raw.isWellFormed()) return telegramError(400, 'Bad Request: strings must be encoded in UTF-8');
    let parsed: { text: string; entities: MessageEntity[] };
    if (params.parse_mode === 'HTML') {
      try {
        parsed = parseTelegramHtml(raw);
      } catch (error) {
        if (error instanceof EntityParseError) return telegramErrors.cantParseEntities(error.message);
        throw error;
      }
    } else if (params.parse_mode === undefined) {
      parsed = { text: raw, entities: Array.isArray(params.entities) ? params.entities : [] };
    } else {
      return telegramError(400, `Bad Request: unsupported parse_mode "${params.parse_mode}"`);
    }
    if (!parsed.text.trim()) return emptyError();
    if (parsed.text.length > 4096) return telegramErrors.tooLong();
    return { text: parsed.text, entities: detectMentions(parsed) };
  };

  /**
   * Checks `reply_markup` as Telegram does for inline keyboards: rows of buttons that each do something and,
   * for callback buttons, 1–64 bytes of `callback_data`. Returns the keyboard (undefined when absent) or
   * Telegram's error.
   */
  const parseMarkup = (params: Params): InlineKeyboardMarkup | undefined | TelegramErrorBody => {
    const markup = params.reply_markup;
    if (markup === undefined) return undefined;
    const rows = markup?.inline_keyboard;
    if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
      return telegramError(400, "Bad Request: can't parse reply keyboard markup JSON object");
    }
    for (const button of rows.flat()) {
      // A button must do something: plain text buttons belong to reply keyboards only.
      if (!Object.keys(button ?? {}).some((key) => key !== 'text'))
        return telegramError(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
      const data = button.callback_data;
      if (data !== undefined && (typeof data !== 'string' || !data || Buffer.byteLength(data) > 64)) {
        return telegramErrors.buttonDataInvalid();
      }
    }
    return markup as InlineKeyboardMarkup;
  };
  const isError = (value: unknown): value is TelegramErrorBody =>
    typeof value === 'object' && value !== null && 'ok' in value;

  const handlers: Record<string, (params: Params) => Reply | 'poll'> = {
    getMe: () => ({ ok: true, result: bot }),
    setWebhook: (params) => {
      const url = String(params.url ?? '');
      if (url && !/^https?:\/\/[^/\s]+/.test(url)) {
        return telegramError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
      }
      if (Array.isArray(params.allowed_updates)) {
        allowedUpdates = params.allowed_updates.length > 0 ? params.allowed_updates : undefined;
      }
      if (params.drop_pending_updates === true || params.drop_pending_updates === 'true') updates.length = 0;
      state.webhookUrl = url;
      state.webhookSecret = typeof params.secret_token === 'string' ? params.secret_token : '';
      state.maxConnections = Number(params.max_connections ?? 40);
      state.lastError = undefined;
      deliverUpdates();
      return { ok: true, result: true };
    },
    deleteWebhook: (params) => {
      state.webhookUrl = '';
      state.webhookSecret = '';
      state.lastError = undefined;
      if (params.drop_pending_updates === true || params.drop_pending_updates === 'true') updates.length = 0;
      return { ok: true, result: true };
    },
    getWebhookInfo: () => ({
      ok: true,
      result: {
        url: state.webhookUrl,
        has_custom_certificate: false,
        pending_update_count: updates.length,
        ...(state.webhookUrl ? { max_connections: state.maxConnections } : {}),
        ...(state.webhookUrl && allowedUpdates ? { allowed_updates: allowedUpdates } : {}),
        ...(state.lastError
          ? { last_error_date: state.lastError.date, last_error_message: state.lastError.message }
          : {}),
      },
    }),
    setMyCommands: (params) => {
      if (!Array.isArray(params.commands))
        return telegramError(400, 'Bad Request: parameter "commands" is required');
      commands.set(params.language_code ?? '', params.commands);
      return { ok: true, result: true };
    },
    getUpdates: (params) => {
      if (Array.isArray(params.allowed_updates)) {
        allowedUpdates = params.allowed_updates.length > 0 ? params.allowed_updates : undefined;
      }
      if (state.webhookUrl) {
        return telegramError(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        );
      }
      const offset = Number(params.offset ?? 0);
      if (offset > 0) {
        const confirmed = updates.findIndex((update) => update.update_id >= offset);
        updates.splice(0, confirmed < 0 ? updates.length : confirmed);
      }
      if (updates.length > 0 || !Number(params.timeout ?? 0)) {
        return { ok: true, result: handOut(updates.slice(0, Math.min(100, Number(params.limit ?? 100)))) };
      }
      return 'poll';
    },
    sendChatAction: (params) => {
      if (!chats.has(Number(params.chat_id))) return telegramErrors.chatNotFound();
      if (!chatAction.test(String(params.action)))
        return telegramError(400, 'Bad Request: wrong parameter action in request');
      return { ok: true, result: true };
    },
    sendMessageDraft: (params) => {
      if (!supportsDrafts) return telegramErrors.notFound();
      const entry = chats.get(Number(params.chat_id));
      if (!entry) return telegramErrors.chatNotFound();
      if (entry.chat.type !== 'private') return telegramErrors.draftPeerInvalid();
      if (!Number(params.draft_id)) return telegramError(400, 'Bad Request: draft_id must be non-zero');
      const raw = typeof params.text === 'string' ? params.text : '';
      let text = '';
      if (raw) {
        const parsed = parseText(params, telegramErrors.messageTextEmpty);
        if ('ok' in parsed) return parsed;
        text = parsed.text;
      }
      drafts.set(entry.chat.id, { draft_id: Number(params.draft_id), text });
      return { ok: true, result: true };
    },
    sendMessage: (params) => {
      const entry = chats.get(Number(params.chat_id));
      if (!entry) return telegramErrors.chatNotFound();
      const parsed = parseText(params, telegramErrors.messageTextEmpty);
      if ('ok' in parsed) return parsed;
      const markup = parseMarkup(params);
      if (isError(markup)) return markup;
      const replyTo = params.reply_parameters?.message_id as number | undefined;
      if (replyTo && !entry.messages.some((m) => m.message_id === replyTo && !m.deleted)) {
        if (!params.reply_parameters.allow_sending_without_reply) {
          return telegramError(400, 'Bad Request: message to be replied not found');
        }
      }
      const stored: StoredMessage = {
        message_id: entry.nextId++,
        chat: entry.chat,
        from: bot,
        text: parsed.text,
        entities: parsed.entities,
        edits: 0,
        deleted: false,
        ...(params.message_thread_id ? { message_thread_id: Number(params.message_thread_id) } : {}),
        ...(replyTo ? { reply_to_message_id: replyTo } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      };
      entry.messages.push(stored);
      drafts.delete(entry.chat.id);
      return { ok: true, result: toMessage(stored) };
    },
    editMessageText: (params) => {
      const entry = chats.get(Number(params.chat_id));
      if (!entry) return telegramErrors.chatNotFound();
      const stored = entry.messages.find((m) => m.message_id === Number(params.message_id) && !m.deleted);
      if (!stored) return telegramError(400, 'Bad Request: message to edit not found');
      if (stored.from.id !== bot.id) return telegramError(400, "Bad Request: message can't be edited");
      const parsed = parseText(params, telegramErrors.textMustBeNonEmpty);
      if ('ok' in parsed) return parsed;
      const markup = parseMarkup(params);
      if (isError(markup)) return markup;
      if (
        parsed.text === stored.text &&
        JSON.stringify(parsed.entities) === JSON.stringify(stored.entities) &&
        JSON.stringify(markup) === JSON.stringify(stored.reply_markup)
      ) {
        return telegramErrors.notModified();
      }
      stored.text = parsed.text;
      stored.entities = parsed.entities;
      // An edit without reply_markup removes the inline keyboard, as on Telegram.
      if (markup) stored.reply_markup = markup;
      else delete stored.reply_markup;
      stored.edits += 1;
      return { ok: true, result: toMessage(stored) };
    },
    answerCallbackQuery: (params) => {
      const query = callbackQueries.get(String(params.callback_query_id));
      if (!query || query.answered) return telegramErrors.queryTooOld();
      if (typeof params.text === 'string' && params.text.length > 200) {
        return telegramError(400, 'Bad Request: MESSAGE_TOO_LONG');
      }
      query.answered = true;
      return { ok: true, result: true };
    },
    deleteMessage: (params) => {
      const stored = chats
        .get(Number(params.chat_id))
        ?.messages.find((m) => m.message_id === Number(params.message_id) && !m.deleted);
      if (!stored) return telegramError(400, 'Bad Request: message to delete not found');
      stored.deleted = true;
      return { ok: true, result: true };
    },
  };

  const send = (response: ServerResponse, reply: Reply) => {
    const status = reply.ok ? 200 : reply.error_code;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(reply));
  };

  const record = (call: RecordedCall) => {
    calls.push(call);
    notify();
  };

  const server = createServer((request, response) => {
    const at = performance.now();
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(
      new URL(request.url ?? '/', 'http://127.0.0.1').pathname,
    );
    readParams(request)
      .then((params) => {
        if (!match) return send(response, telegramErrors.notFound());
        const [, givenToken, method = ''] = match;
        // Telegram answers 404 to a string that is not shaped like a token, 401 to a wrong or revoked one.
        if (!/^\d+:[\w-]+$/.test(givenToken ?? '')) return send(response, telegramErrors.notFound());
        if (givenToken !== token) return send(response, telegramErrors.unauthorized());
        if (blockedChats.has(Number(params.chat_id))) {
          const error = telegramErrors.botBlocked();
          record({ method, body: params, at, ...errorFields(error) });
          return send(response, error);
        }
        const scripted = failures.find(
          (f) => f.method === method || (f.method === '*' && method !== 'getUpdates'),
        );
        const floodEnd = floodUntil.get(method) ?? 0;
        if (performance.now() < floodEnd) {
          const error = telegramErrors.tooManyRequests(
            Math.max(1, Math.ceil((floodEnd - performance.now()) / 1000)),
          );
          record({ method, body: params, at, early: true, ...errorFields(error) });
          return send(response, error);
        }
        if (scripted) {
          scripted.count -= 1;
          if (scripted.count <= 0) failures.splice(failures.indexOf(scripted), 1);
          if (scripted.error === 'disconnect') {
            record({ method, body: params, at, ok: false, description: 'connection dropped' });
            request.socket.destroy();
            return;
          }
          const retryAfter = scripted.error.parameters?.retry_after;
          if (retryAfter) floodUntil.set(method, performance.now() + retryAfter * 1000);
          record({ method, body: params, at, ...errorFields(scripted.error) });
          return send(response, scripted.error);
        }
        const handler = handlers[method];
        if (!handler) {
          record({ method, body: params, at, ...errorFields(telegramErrors.notFound()) });
          return send(response, telegramErrors.notFound());
        }
        const reply = handler(params);
        if (reply === 'poll') {
          const timer = setTimeout(() => {
            if (poller === waiting) poller = undefined;
            waiting.respond([]);
          }, Number(params.timeout) * 1000);
          const waiting = {
            limit: Math.min(100, Number(params.limit ?? 100)),
            respond(result: Update[]) {
              clearTimeout(timer);
              if (response.writableEnded || response.destroyed) return;
              record({ method, body: params, at, ok: true });
              send(response, { ok: true, result });
            },
          };
          // A newer long poll terminates the older one, as on Telegram.
          poller?.respond([]);
          poller = waiting;
          response.on('close', () => {
            clearTimeout(timer);
            if (poller === waiting) poller = undefined;
          });
          return;
        }
        record({ method, body: params, at, ...(reply.ok ? { ok: true } : errorFields(reply)) });
        const hold = holds.find((h) => h.method === method);
        if (!hold) return send(response, reply);
        holds.splice(holds.indexOf(hold), 1);
        hold.arrive();
        void hold.released.then(() => send(response, reply));
      })
      .catch((error: unknown) => {
        send(response, telegramError(400, `Bad Request: ${(error as Error).message}`));
      });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    bot,
    calls,
    commands,
    drafts,
    get webhookUrl() {
      return state.webhookUrl;
    },
    get webhookSecret() {
      return state.webhookSecret;
    },
    webhookDeliveries,
    makeMessageUpdate: (incoming) =>
      ({ update_id: nextUpdateId++, message: storeIncoming(incoming) }) as Update,
    deliverUpdate: (update, delivery = {}) =>
      postUpdate(
        delivery.url ?? state.webhookUrl,
        update,
        delivery.secret === undefined ? state.webhookSecret || null : delivery.secret,
      ),
    pushMessage(incoming) {
      const message = storeIncoming(incoming);
      pushUpdate({ message } as Omit<Update, 'update_id'>);
      return message;
    },
    pushUpdate,
    setBlocked(chatId, blocked) {
      if (blocked) blockedChats.add(chatId);
      else blockedChats.delete(chatId);
    },
    deleteMessage(chatId, messageId) {
      const stored = chats.get(chatId)?.messages.find((m) => m.message_id === messageId);
      if (stored) stored.deleted = true;
    },
    pushCallbackQuery({ from, message, data }) {
      const buttons = message.reply_markup?.inline_keyboard.flat() ?? [];
      if (
        message.deleted ||
        !buttons.some((button) => 'callback_data' in button && button.callback_data === data)
      ) {
        throw new Error(
          `fake-telegram: message ${message.message_id} has no button with callback_data "${data}"`,
        );
      }
      const id = String(nextCallbackId++);
      callbackQueries.set(id, { answered: false });
      const query = {
        id,
        from,
        message: toMessage(message),
        chat_instance: String(message.chat.id * 7),
        data,
      } as CallbackQuery;
      pushUpdate({ callback_query: query } as Omit<Update, 'update_id'>);
      return query;
    },
    failNext(method, count, error) {
      failures.push({ method, count, error });
    },
    holdNext(method) {
      let arrive = () => {};
      let release = () => {};
      const arrived = new Promise<void>((resolve) => {
        arrive = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.push({ method, arrive, released });
      return { arrived, release };
    },
    botMessages(chatId, threadId) {
      return (chats.get(chatId)?.messages ?? []).filter(
        (m) =>
          m.from.id === bot.id && !m.deleted && (threadId === undefined || m.message_thread_id === threadId),
      );
    },
    callsOf(method, chatId) {
      return calls.filter(
        (call) => call.method === method && (chatId === undefined || Number(call.body.chat_id) === chatId),
      );
    },
    waitFor(check, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const attempt = () => {
          const value = check();
          if (!value) return;
          done();
          resolve(value);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`fake-telegram: condition not met within ${timeoutMs} ms`));
        }, timeoutMs);
        const poll = setInterval(attempt, 20);
        const done = () => {
          clearTimeout(timer);
          clearInterval(poll);
          watchers.delete(attempt);
        };
        watchers.add(attempt);
        attempt();
      });
    },
    pendingUpdates: () => [...updates],
    deliveredAt: (updateId) => deliveredAt.get(updateId),
    async close() {
      state.closed = true;
      clearTimeout(webhookRetry);
      poller?.respond([]);
      poller = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
