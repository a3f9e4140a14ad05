import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Chat, Message, MessageEntity, Update, User } from 'grammy/types';

/**
 * A loopback Telegram Bot API server for tests: grammY talks to it through `apiRoot` exactly as it would to
 * `api.telegram.org` (`${apiRoot}/bot${token}/${method}`, JSON, form or query parameters). It keeps chats and
 * their messages, long-polls `getUpdates` with real offset semantics, validates HTML the way Telegram's parser
 * does, and answers with Telegram's own error shapes and descriptions.
 * @see https://core.telegram.org/bots/api#making-requests
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
  notFound: () => telegramError(404, 'Not Found'),
  unauthorized: () => telegramError(401, 'Unauthorized'),
  serverError: () => telegramError(500, 'Internal Server Error'),
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
  /** Queues an incoming text message as an update and returns the message as the bot will see it. */
  pushMessage(incoming: IncomingText): Message;
  /** Queues any update (an `update_id` is assigned). */
  pushUpdate(update: Omit<Update, 'update_id'>): Update;
  /**
   * Answers the next `count` calls of `method` ('*' for any method but getUpdates) with `error`, or with a
   * dropped connection for `'disconnect'`. A 429 also refuses the method until its `retry_after` has passed.
   */
  failNext(method: string, count: number, error: TelegramErrorBody | 'disconnect'): void;
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
 * @see https://core.telegram.org/bots/api#html-style
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
    if (/^(https?|tg):\/\/\S+$/i.test(url)) entities.push({ type: 'text_link', offset, length, url });
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
  const query = Object.fromEntries(new URL(request.url ?? '/', 'http://fake').searchParams);
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
  const commands = new Map<string, Array<{ command: string; description: string }>>();
  const drafts = new Map<number, { draft_id: number; text: string }>();
  const watchers = new Set<() => void>();
  const deliveredAt = new Map<number, number>();
  let poller: { limit: number; respond(updates: Update[]): void } | undefined;
  let nextUpdateId = 1;
  const state = { webhookUrl: options.webhookUrl ?? '' };

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
    } as Message;
  };

  const handOut = (batch: Update[]) => {
    for (const update of batch)
      if (!deliveredAt.has(update.update_id)) deliveredAt.set(update.update_id, performance.now());
    return batch;
  };

  const deliverUpdates = () => {
    if (!poller || updates.length === 0) return;
    const current = poller;
    poller = undefined;
    current.respond(handOut(updates.slice(0, current.limit)));
  };

  const pushUpdate = (update: Omit<Update, 'update_id'>): Update => {
    const full = { update_id: nextUpdateId++, ...update } as Update;
    updates.push(full);
    deliverUpdates();
    return full;
  };

  const parseText = (params: Params, emptyError: () => TelegramErrorBody) => {
    const raw = typeof params.text === 'string' ? params.text : '';
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
    return parsed;
  };

  const handlers: Record<string, (params: Params) => Reply | 'poll'> = {
    getMe: () => ({ ok: true, result: bot }),
    deleteWebhook: () => {
      state.webhookUrl = '';
      return { ok: true, result: true };
    },
    getWebhookInfo: () => ({
      ok: true,
      result: { url: state.webhookUrl, pending_update_count: updates.length },
    }),
    setMyCommands: (params) => {
      if (!Array.isArray(params.commands))
        return telegramError(400, 'Bad Request: parameter "commands" is required');
      commands.set(params.language_code ?? '', params.commands);
      return { ok: true, result: true };
    },
    getUpdates: (params) => {
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
      if (
        parsed.text === stored.text &&
        JSON.stringify(parsed.entities) === JSON.stringify(stored.entities)
      ) {
        return telegramErrors.notModified();
      }
      stored.text = parsed.text;
      stored.entities = parsed.entities;
      stored.edits += 1;
      return { ok: true, result: toMessage(stored) };
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
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(request.url ?? '/', 'http://fake').pathname);
    readParams(request)
      .then((params) => {
        if (!match) return send(response, telegramErrors.notFound());
        const [, givenToken, method = ''] = match;
        if (givenToken !== token) return send(response, telegramErrors.unauthorized());
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
        send(response, reply);
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
    pushMessage(incoming) {
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
      const message = toMessage(stored);
      pushUpdate({ message } as Omit<Update, 'update_id'>);
      return message;
    },
    pushUpdate,
    failNext(method, count, error) {
      failures.push({ method, count, error });
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
      poller?.respond([]);
      poller = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
