import {
  type APIActionRowComponent,
  type APIButtonComponent,
  HTTPError,
  RateLimitError,
  REST,
} from 'discord.js';
import type { Logger } from '../../core/logger.ts';
import type { ReplyLanguage } from '../../core/question.ts';
import type { TurnDone, TurnEvent } from '../../core/turn.ts';
import { consumeThrottled, PreviewSkipped } from '../shared/throttled-answer.ts';
import { discordHandoff, feedbackRow } from './answer-footer.ts';
import { reportError } from './errors.ts';
import { renderDiscordAnswer, renderDiscordProgress } from './render.ts';
import type { DiscordServices } from './services.ts';

/**
 * What a message carries besides its content: the vote buttons under a finished answer, and the one mention
 * the bot ever allows (the hand-off role). Absent fields keep the Client defaults (no components, no pings).
 */
export interface MessageExtras {
  components?: APIActionRowComponent<APIButtonComponent>[];
  allowedMentions?: { parse: []; roles: string[] };
}

/**
 * Where an answer appears. Interactions and channel replies differ only here, so streaming, splitting and
 * failure handling are written once.
 */
export interface AnswerSurface {
  /** Shows content in the answer's main message, creating it on first use; returns the message id. */
  show(content: string, extras?: MessageExtras): Promise<string>;
  /** Adds a message after the main one (the rest of a long answer); returns its id. */
  append(content: string, extras?: MessageExtras): Promise<string>;
  /** Last resort when the main message can't be used (deleted, token expired): a new message the asker sees. */
  fallback(content: string, extras?: MessageExtras): Promise<string>;
  /**
   * Shows a live preview in the main message, creating it on first use, through the preview REST
   * (`createPreviewRest`): a rate limit throws `RateLimitError` instead of waiting.
   */
  preview(content: string): Promise<void>;
}

/**
 * The REST client for live previews only. discord.js's own queue waits out every 429 (and a bucket it knows
 * is empty) before sending, so a preview caught by a rate limit would hold the finished answer back behind
 * it for the whole `retry_after`. This one rejects instead (`rejectOnRateLimit`), and keeps its own bucket
 * state: the final answer, sent through the Client's REST, is never held back by what a preview met; if
 * Discord limits the final message too, the Client's REST waits that out as before. Previews name no one:
 * every body carries `allowed_mentions: { parse: [] }`.
 * @see https://discord.com/developers/docs/topics/rate-limits
 */
export function createPreviewRest(api: string, token: string): REST {
  return new REST({ api, rejectOnRateLimit: () => true }).setToken(token);
}

/** Runs surface calls one after another, so a late live edit can never overwrite the final answer. */
export function serializeSurface(surface: AnswerSurface): AnswerSurface {
  let queue: Promise<unknown> = Promise.resolve();
  const inOrder =
    <Args extends unknown[], Result>(call: (...args: Args) => Promise<Result>) =>
    (...args: Args): Promise<Result> => {
      const result = queue.then(() => call(...args));
      queue = result.catch(() => undefined);
      return result;
    };
  return {
    show: inOrder(surface.show),
    append: inOrder(surface.append),
    fallback: inOrder(surface.fallback),
    preview: inOrder(surface.preview),
  };
}

/**
 * Delivers finished messages: the first into the main message, the rest as follow-ups; `lastExtras` go on
 * the last message only. When Discord refuses (message deleted, token expired, permissions gone), the
 * undelivered part goes out through the fallback, so the asker always sees an ending. Never throws; returns
 * the ids of delivered messages.
 */
export async function deliverMessages(
  surface: AnswerSurface,
  chunks: string[],
  log: Logger,
  lastExtras?: MessageExtras,
): Promise<string[]> {
  const ids: string[] = [];
  const extrasAt = (index: number) => (index === chunks.length - 1 ? lastExtras : undefined);
  for (const [index, chunk] of chunks.entries()) {
    try {
      ids.push(
        await (index === 0 ? surface.show(chunk, extrasAt(index)) : surface.append(chunk, extrasAt(index))),
      );
    } catch (error) {
      reportError(log, error, 'could not deliver to the answer message; falling back to a new message');
      for (const [offset, rest] of chunks.slice(index).entries()) {
        try {
          ids.push(await surface.fallback(rest, extrasAt(index + offset)));
        } catch (fallbackError) {
          reportError(log, fallbackError, 'answer could not be delivered anywhere');
          break;
        }
      }
      break;
    }
  }
  return ids;
}

/** What streaming an answer needs besides the surface. */
export interface StreamOptions {
  services: DiscordServices;
  log: Logger;
  /** Minimum time between live edits (Discord allows about one edit per second per message). */
  editIntervalMs: number;
  /** Sends the live previews; see `createPreviewRest`. */
  previewRest: REST;
  signal: AbortSignal;
}

/** What streaming left behind: the messages carrying the answer, and the answer itself. */
export interface StreamedAnswer {
  messageIds: string[];
  done: TurnDone;
}

/**
 * Streams a turn's events into the surface: live edits on `consumeThrottled`'s cadence (a readable first
 * chunk, then at most once per interval, none while Discord rate-limits them), then the final answer
 * with its sources (split over follow-ups past 2000 characters) and, when the core recorded it for feedback,
 * the 👍 / 👎 buttons on its last message; a "not covered" answer in a guild adds the hand-off line, whose role
 * mention is allowed on that message alone. A failed live edit only stops the live view — the final answer is
 * still attempted and falls back to a new message. A turn that fails before its answer (refused, or the model
 * failed before any text) rethrows, for the handler's error boundary to say so in the same message.
 */
export async function streamAnswer(
  surface: AnswerSurface,
  reply: { events: AsyncIterable<TurnEvent>; language: ReplyLanguage },
  options: StreamOptions,
  /** The guild asked in (null in DMs), for the hand-off role. */
  guildId: string | null = null,
): Promise<StreamedAnswer> {
  const { services, log } = options;
  const render = { showReasoning: services.config.showReasoning, language: reply.language };
  let shown = '';
  const { done, reasoning } = await consumeThrottled(reply.events, {
    intervalMs: options.editIntervalMs,
    hideReasoning: services.config.showReasoning === 'off',
    update: async (snapshot) => {
      const content = renderDiscordProgress(snapshot, render);
      if (content === shown) return false;
      try {
        await surface.preview(content);
      } catch (error) {
        // A 429, or a 5xx still failing after REST's own retries: skip live edits for now, keep the answer.
        if (error instanceof RateLimitError) {
          log.info(
            { retryAfterMs: error.retryAfter },
            'live edit rate-limited; skipping live edits meanwhile',
          );
          throw new PreviewSkipped(Math.max(error.retryAfter, error.timeToReset), { cause: error });
        }
        if (error instanceof HTTPError) throw new PreviewSkipped(0, { cause: error });
        throw error;
      }
      shown = content;
    },
    onUpdateError: (error) =>
      reportError(log, error, 'live edit failed; the final answer will still be sent'),
  });
  const handoff = done.notCovered ? discordHandoff(services, guildId, render.language) : undefined;
  const chunks = renderDiscordAnswer(done, reasoning, {
    ...render,
    ...(handoff ? { handoff: handoff.line } : {}),
  });
  const messageIds = await deliverMessages(surface, chunks, log, {
    ...(done.votable ? { components: [feedbackRow(done.answerId)] } : {}),
    ...(handoff ? { allowedMentions: handoff.allowedMentions } : {}),
  });
  log.info({ answerId: done.answerId, messages: messageIds.length }, 'delivered');
  return { messageIds, done };
}
