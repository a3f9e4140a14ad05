import type { Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Logger } from '../../core/logger.ts';
import { isMessageGone, isNotModified, isParseError, isRefusedContent } from './errors.ts';
import { htmlToPlainText } from './render.ts';
import type { ReplyPlace } from './routing.ts';

/** A message the bot has put in the chat for one reply, and what it shows. */
export interface SentMessage {
  messageId: number;
  html: string;
  /** The inline keyboard it carries, as JSON ('' for none), so a keyboard alone also counts as a change. */
  markup: string;
}

/**
 * Thrown by a trail once a later attempt at the same reply has taken the chat over (this process stalled past
 * its lease and another took the update): this attempt stops, leaving the messages to the later one.
 */
export class ReplyTakenOver extends Error {
  constructor() {
    super('a later attempt took the reply over');
    this.name = 'ReplyTakenOver';
  }
}

/** Options for a trail: the wait between two calls to the same chat, and what an earlier attempt sent. */
export interface MessageTrailOptions {
  /** Minimum time between two calls in this chat (Telegram allows about one message per second per chat). */
  minGapMs: number;
  /** Messages an interrupted attempt at the same reply left in the chat: they are edited, not sent anew. */
  earlier?: SentMessage[];
  /**
   * Told the trail's messages whenever one is sent or deleted, so a later attempt can start from them; resolves
   * false once a later attempt has taken the reply over.
   */
  onChange?: (messages: SentMessage[]) => Promise<boolean>;
  /** False once a later attempt has taken the reply over; asked before each message is sent or edited. */
  isCurrent?: () => Promise<boolean>;
}

/**
 * The messages that make up one reply in a chat. `show` makes the chat display exactly the given HTML messages
 * — sending the missing ones, editing the changed ones, deleting leftovers — so the same call serves the growing
 * preview of a streamed answer and its final form. Once Telegram rejects our markup, the rest of the reply is
 * sent as plain text; "message is not modified" is never an error, and a message someone deleted meanwhile is
 * sent again rather than failing the reply. Once a later attempt has taken the reply over, `show` rejects with
 * `ReplyTakenOver` before touching the chat again, and takes back a message it sent that the later attempt may
 * not know of, so the chat never shows both attempts' messages.
 */
export interface MessageTrail {
  /** `replyMarkup` goes on the last message only (the vote buttons under a finished answer). */
  show(messages: string[], options?: { replyMarkup?: InlineKeyboardMarkup }): Promise<void>;
  /** How many messages the reply currently has in the chat. */
  readonly size: number;
}

const noPreview = { is_disabled: true } as const;

/** Starts an empty trail for a reply at `place`. */
export function createMessageTrail(
  api: Api,
  place: ReplyPlace,
  log: Logger,
  options: MessageTrailOptions,
): MessageTrail {
  const sent: SentMessage[] = (options.earlier ?? []).map((message) => ({ ...message }));
  let plain = false;
  let takenOver = false;
  let lastCallAt = Number.NEGATIVE_INFINITY;

  const pace = async () => {
    const wait = lastCallAt + options.minGapMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastCallAt = Date.now();
  };

  /**
   * Runs a call with HTML, and again as plain text if Telegram refuses it with a 400 that plain text can avoid:
   * markup it can't parse, or anything else about the message itself (its entities, its length as Telegram
   * counts it). An answer is never lost to a formatting problem.
   */
  const withFallback = async <T>(html: string, call: (text: string, parseMode?: 'HTML') => Promise<T>) => {
    if (!plain) {
      try {
        return await call(html, 'HTML');
      } catch (error) {
        if (!isParseError(error) && !isRefusedContent(error)) throw error;
        plain = true;
        log.warn(
          { chatId: place.chatId, description: (error as { description: string }).description },
          'HTML rejected; sending plain text',
        );
      }
    }
    return call(htmlToPlainText(html));
  };

  const send = async (html: string, first: boolean, markup?: InlineKeyboardMarkup) => {
    await pace();
    const message = await withFallback(html, (text, parse_mode) =>
      api.sendMessage(place.chatId, text, {
        ...(parse_mode ? { parse_mode } : {}),
        ...(markup ? { reply_markup: markup } : {}),
        link_preview_options: noPreview,
        ...(place.threadId ? { message_thread_id: place.threadId } : {}),
        ...(first && place.replyTo
          ? { reply_parameters: { message_id: place.replyTo, allow_sending_without_reply: true } }
          : {}),
      }),
    );
    return { messageId: message.message_id, html, markup: markup ? JSON.stringify(markup) : '' };
  };

  // Telegram drops an inline keyboard on any edit that doesn't repeat it, so every edit states the markup.
  const edit = async (message: SentMessage, html: string, markup?: InlineKeyboardMarkup) => {
    await pace();
    try {
      await withFallback(html, (text, parse_mode) =>
        api.editMessageText(place.chatId, message.messageId, text, {
          ...(parse_mode ? { parse_mode } : {}),
          ...(markup ? { reply_markup: markup } : {}),
          link_preview_options: noPreview,
        }),
      );
    } catch (error) {
      if (!isNotModified(error)) throw error;
    }
    message.html = html;
    message.markup = markup ? JSON.stringify(markup) : '';
  };

  return {
    get size() {
      return sent.length;
    },
    async show(messages, { replyMarkup } = {}) {
      if (takenOver) throw new ReplyTakenOver();
      const stop = () => {
        takenOver = true;
        return new ReplyTakenOver();
      };
      const changed = async () => (await options.onChange?.(sent.map((message) => ({ ...message })))) ?? true;
      const mustBeCurrent = async () => {
        if (options.isCurrent && !(await options.isCurrent())) throw stop();
      };
      /** Records a message just sent; if the reply was taken over meanwhile, deletes it and stops. */
      const recordSent = async (message: SentMessage) => {
        if (await changed()) return;
        await api.deleteMessage(place.chatId, message.messageId).catch((error: unknown) => {
          log.debug({ chatId: place.chatId, reason: String(error) }, 'could not take back a message');
        });
        throw stop();
      };
      for (const [index, html] of messages.entries()) {
        const markup = index === messages.length - 1 ? replyMarkup : undefined;
        const existing = sent[index];
        if (!existing) {
          await mustBeCurrent();
          const message = await send(html, index === 0, markup);
          sent.push(message);
          await recordSent(message);
        } else if (existing.html !== html || existing.markup !== (markup ? JSON.stringify(markup) : '')) {
          await mustBeCurrent();
          try {
            await edit(existing, html, markup);
          } catch (error) {
            if (!isMessageGone(error)) throw error;
            // Deleted in the chat while the answer was growing: the rest of the answer still goes out.
            log.info(
              { chatId: place.chatId, messageId: existing.messageId },
              'message deleted; sending anew',
            );
            const message = await send(html, index === 0, markup);
            sent[index] = message;
            await recordSent(message);
          }
        }
      }
      const extras = sent.splice(messages.length);
      // Once taken over, the leftovers are the later attempt's to keep or delete.
      if (extras.length > 0 && !(await changed())) throw stop();
      for (const extra of extras) {
        await api.deleteMessage(place.chatId, extra.messageId).catch((error: unknown) => {
          log.debug({ chatId: place.chatId, reason: String(error) }, 'could not delete a preview message');
        });
      }
    },
  };
}
