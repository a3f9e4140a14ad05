import type { Message, Update, UserFromGetMe } from 'grammy/types';

/** Where the bot's reply to a message goes: the chat, the forum topic, and (in groups) the message answered. */
export interface ReplyPlace {
  chatId: number;
  chatType: 'private' | 'group' | 'supergroup' | 'channel';
  /** The forum topic, when the message was posted in one. */
  threadId?: number;
  /** The asking message; replies quote it in groups so a busy chat can tell who was answered. */
  replyTo?: number;
}

/**
 * What an incoming text asks of the bot: a command with the text after it, plain text addressed to the bot
 * (run as the command that takes plain text), or nothing.
 */
export type Incoming =
  | { kind: 'command'; name: string; rest: string; explicit: boolean }
  | { kind: 'plain'; text: string }
  | { kind: 'ignore'; reason: string };

/** Forum topics have their own conversation; other chats have one conversation each. */
export function conversationIdFor(message: Message): string {
  const topic = message.is_topic_message && message.message_thread_id ? `:${message.message_thread_id}` : '';
  return `telegram:${message.chat.id}${topic}`;
}

/**
 * Updates with the same key are handled one after another, in order: a conversation's messages; a chat's button
 * presses. Other updates have a key of their own.
 */
export function sequenceKeyOf(update: Update): string {
  if (update.message) return conversationIdFor(update.message);
  const chatId = update.callback_query?.message?.chat.id;
  return chatId === undefined ? `update:${update.update_id}` : String(chatId);
}

/** Where to answer `message`: the same chat and topic, quoting the question in groups. */
export function replyPlaceFor(message: Message): ReplyPlace {
  const place: ReplyPlace = { chatId: message.chat.id, chatType: message.chat.type };
  if (message.is_topic_message && message.message_thread_id) place.threadId = message.message_thread_id;
  if (message.chat.type !== 'private') place.replyTo = message.message_id;
  return place;
}

/** The spans of the text that mention the bot: `@username` (any case) or a text mention of its user. */
function mentionRanges(message: Message, me: UserFromGetMe): Array<[number, number]> {
  const text = message.text ?? '';
  const username = `@${me.username}`.toLowerCase();
  return (message.entities ?? [])
    .filter(
      (entity) =>
        (entity.type === 'mention' &&
          text.slice(entity.offset, entity.offset + entity.length).toLowerCase() === username) ||
        (entity.type === 'text_mention' && entity.user.id === me.id),
    )
    .map((entity) => [entity.offset, entity.offset + entity.length]);
}

function isReplyToBot(message: Message, me: UserFromGetMe): boolean {
  const replied = message.reply_to_message;
  // In forum topics every message "replies" to the topic's creation message; that is not addressing the bot.
  return replied !== undefined && !replied.forum_topic_created && replied.from?.id === me.id;
}

function withoutRanges(text: string, ranges: Array<[number, number]>): string {
  let result = text;
  for (const [start, end] of [...ranges].sort((a, b) => b[0] - a[0])) {
    result = `${result.slice(0, start)} ${result.slice(end)}`;
  }
  return result.replace(/\s{2,}/g, ' ').trim();
}

/**
 * An anonymous group admin: Telegram sends their messages from the bot account `@GroupAnonymousBot`, with the
 * group itself as `sender_chat`. They are people, not bots, and are answered.
 * @see https://core.telegram.org/bots/api#message
 */
export function isAnonymousAdmin(message: Message): boolean {
  return message.sender_chat !== undefined && message.sender_chat.id === message.chat.id;
}

/**
 * Decides what a text message asks for. Commands (`/ask`, `/ask@ThisBot`) work everywhere, except those
 * addressed to another bot. In private chats any other text is a question; in groups only a message that
 * mentions the bot or replies to it is, with the mention removed. Bots' messages are never answered, so two
 * bots can't talk each other into a loop.
 * @see https://core.telegram.org/bots/features#privacy-mode
 */
export function routeMessage(message: Message, me: UserFromGetMe): Incoming {
  const text = message.text ?? '';
  if (message.from?.is_bot && !isAnonymousAdmin(message)) return { kind: 'ignore', reason: 'from a bot' };
  const command = message.entities?.find((entity) => entity.type === 'bot_command' && entity.offset === 0);
  if (command) {
    const [name = '', target] = text.slice(1, command.length).split('@');
    if (target && target.toLowerCase() !== me.username.toLowerCase()) {
      return { kind: 'ignore', reason: 'command for another bot' };
    }
    const explicit = Boolean(target) || message.chat.type === 'private';
    return { kind: 'command', name: name.toLowerCase(), rest: text.slice(command.length).trim(), explicit };
  }
  if (message.chat.type === 'private') return { kind: 'plain', text: text.trim() };
  const mentions = mentionRanges(message, me);
  if (mentions.length > 0 || isReplyToBot(message, me)) {
    return { kind: 'plain', text: withoutRanges(text, mentions) };
  }
  return { kind: 'ignore', reason: 'group chatter' };
}
