import type { APIActionRowComponent, APIButtonComponent } from 'discord.js';
import type { AnswerEvent } from '../../core/answer-events.ts';
import { describeErrorForUser } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { detectLanguage } from '../../core/question.ts';
import type { Poquan } from '../../poquan.ts';
import { consumeThrottled } from '../shared/throttled-answer.ts';
import { reportError } from './errors.ts';
import { discordHandoff, recordDiscordAnswer } from './feedback.ts';
import { renderDiscordAnswer, renderDiscordProgress, renderDiscordText } from './render.ts';

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
}

/** Runs surface calls one after another, so a late live edit can never overwrite the final answer. */
export function serializeSurface(surface: AnswerSurface): AnswerSurface {
  let queue: Promise<unknown> = Promise.resolve();
  const inOrder =
    (call: (content: string, extras?: MessageExtras) => Promise<string>) =>
    (content: string, extras?: MessageExtras): Promise<string> => {
      const result = queue.then(() => call(content, extras));
      queue = result.catch(() => undefined);
      return result;
    };
  return {
    show: inOrder(surface.show),
    append: inOrder(surface.append),
    fallback: inOrder(surface.fallback),
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
  poquan: Poquan;
  log: Logger;
  /** Minimum time between live edits (Discord allows about one edit per second per message). */
  editIntervalMs: number;
  signal: AbortSignal;
}

/**
 * Streams `poquan.answer` into the surface: live edits at most once per interval, then the final answer
 * with its sources (split over follow-ups past 2000 characters) and the 👍 / 👎 buttons on its last
 * message; a "not covered" answer in a guild adds the hand-off line, whose role mention is allowed on that
 * message alone. A model failure before any text becomes one short sentence in the same message; a failed
 * live edit only stops the live view — the final answer is still attempted and falls back to a new message.
 * Returns the ids of the messages carrying the answer.
 */
export async function streamAnswer(
  surface: AnswerSurface,
  question: string,
  conversationId: string,
  options: StreamOptions,
  /** The guild asked in (null in DMs), for the hand-off role. */
  guildId: string | null = null,
  /** The asker (`discord:<id>`), whose budget the answer counts against. */
  userKey?: string,
): Promise<string[]> {
  const { poquan, log } = options;
  const render = { showReasoning: poquan.config.showReasoning, language: detectLanguage(question) };
  let reasoning = '';
  async function* keepReasoning(events: AsyncIterable<AnswerEvent>) {
    for await (const event of events) {
      if (event.type === 'reasoning') reasoning += event.delta;
      yield event;
    }
  }
  let shown = '';
  try {
    const events = poquan.answer(question, conversationId, {
      signal: options.signal,
      platform: 'discord',
      ...(userKey ? { userKey } : {}),
    });
    const done = await consumeThrottled(keepReasoning(events), {
      intervalMs: options.editIntervalMs,
      update: async (snapshot) => {
        const content = renderDiscordProgress(snapshot, render);
        if (content === shown) return;
        await surface.show(content);
        shown = content;
      },
      onUpdateError: (error) =>
        reportError(log, error, 'live edit failed; the final answer will still be sent'),
    });
    log.info(
      {
        conversationId,
        mode: done.mode,
        model: done.model,
        citations: done.citations.length,
        incomplete: done.incomplete,
        cached: done.cached,
        usage: done.usage,
        cost: done.cost,
      },
      'answered',
    );
    const handoff = done.notCovered ? discordHandoff(poquan, guildId, render.language) : undefined;
    const chunks = renderDiscordAnswer(done, reasoning, {
      ...render,
      ...(handoff ? { handoff: handoff.line } : {}),
    });
    const components = await recordDiscordAnswer(poquan, log, done, {
      conversationId,
      question,
      ...(userKey ? { userKey } : {}),
    });
    return await deliverMessages(surface, chunks, log, {
      ...(components ? { components } : {}),
      ...(handoff ? { allowedMentions: handoff.allowedMentions } : {}),
    });
  } catch (error) {
    reportError(log, error, 'answer failed');
    return deliverMessages(surface, renderDiscordText(describeErrorForUser(error, render.language)), log);
  }
}
