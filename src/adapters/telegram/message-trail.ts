import type { Api } from 'grammy';
import type { Logger } from '../../core/logger.ts';
import { isNotModified, isParseError } from './errors.ts';
import { htmlToPlainText } from './render.ts';
import type { ReplyPlace } from './routing.ts';

/** A message the bot has put in the chat for one reply, and what it shows. */
interface SentMessage {
  messageId: number;
  html: string;
}

/** Options for a trail: the wait between two calls to the same chat. */
export interface MessageTrailOptions {
  /** Minimum time between two calls in this chat (Telegram allows about one message per second per chat). */
  minGapMs: number;
}

/**
 * The messages that make up one reply in a chat. `show` makes the chat display exactly the given HTML messages
 * — sending the missing ones, editing the changed ones, deleting leftovers — so the same call serves the growing
 * preview of a streamed answer and its final form. Once Telegram rejects our markup, the rest of the reply is
 * sent as plain text; "message is not modified" is never an error.
 */
export interface MessageTrail {
  show(messages: string[]): Promise<void>;
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
  const sent: SentMessage[] = [];
  let plain = false;
  let lastCallAt = Number.NEGATIVE_INFINITY;

  const pace = async () => {
    const wait = lastCallAt + options.minGapMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastCallAt = Date.now();
  };

  /** Runs a call with HTML, and again as plain text if Telegram can't parse the markup. */
  const withFallback = async <T>(html: string, call: (text: string, parseMode?: 'HTML') => Promise<T>) => {
    if (!plain) {
      try {
        return await call(html, 'HTML');
      } catch (error) {
        if (!isParseError(error)) throw error;
        plain = true;
        log.warn(
          { chatId: place.chatId, description: (error as { description: string }).description },
          'HTML rejected; sending plain text',
        );
      }
    }
    return call(htmlToPlainText(html));
  };

  const send = async (html: string, first: boolean) => {
    await pace();
    const message = await withFallback(html, (text, parse_mode) =>
      api.sendMessage(place.chatId, text, {
        ...(parse_mode ? { parse_mode } : {}),
        link_preview_options: noPreview,
        ...(place.threadId ? { message_thread_id: place.threadId } : {}),
        ...(first && place.replyTo
          ? { reply_parameters: { message_id: place.replyTo, allow_sending_without_reply: true } }
          : {}),
      }),
    );
    sent.push({ messageId: message.message_id, html });
  };

  const edit = async (message: SentMessage, html: string) => {
    await pace();
    try {
      await withFallback(html, (text, parse_mode) =>
        api.editMessageText(place.chatId, message.messageId, text, {
          ...(parse_mode ? { parse_mode } : {}),
          link_preview_options: noPreview,
        }),
      );
    } catch (error) {
      if (!isNotModified(error)) throw error;
    }
    message.html = html;
  };

  return {
    get size() {
      return sent.length;
    },
    async show(messages) {
      for (const [index, html] of messages.entries()) {
        const existing = sent[index];
        if (!existing) await send(html, index === 0);
        else if (existing.html !== html) await edit(existing, html);
      }
      for (const extra of sent.splice(messages.length)) {
        await api.deleteMessage(place.chatId, extra.messageId).catch((error: unknown) => {
          log.debug({ chatId: place.chatId, reason: String(error) }, 'could not delete a preview message');
        });
      }
    },
  };
}
