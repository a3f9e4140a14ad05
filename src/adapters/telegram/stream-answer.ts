import type { Api } from 'grammy';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { LlmError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ReplyLanguage } from '../../core/question.ts';
import type { TurnDone, TurnEvent } from '../../core/turn.ts';
import { consumeThrottled, PreviewSkipped } from '../shared/throttled-answer.ts';
import { withoutRetries } from './api-retries.ts';
import { isMethodMissing, isParseError, isPassingFault, retryAfterMs } from './errors.ts';
import { feedbackKeyboard, telegramHandoff } from './feedback.ts';
import { createMessageTrail, ReplyTakenOver } from './message-trail.ts';
import { previewRecordFor } from './preview-record.ts';
import { escapeHtml, htmlToPlainText, renderTelegramAnswer, renderTelegramPreview } from './render.ts';
import type { ReplyPlace } from './routing.ts';
import type { TelegramServices } from './services.ts';

/** The streaming cadence; Telegram allows about one edit per second per chat and twenty per minute in a group. */
export interface StreamTiming {
  /** Between two draft updates in a private chat. */
  privateIntervalMs: number;
  /** Between two preview edits in a group (3 s keeps a group under twenty edits a minute). */
  groupIntervalMs: number;
  /** Between any two message calls in one chat. */
  messageGapMs: number;
  /** Between two "typing…" actions; Telegram shows one for about five seconds. */
  typingIntervalMs: number;
}

/** What streaming one answer needs from the bot around it. */
export interface StreamContext {
  api: Api;
  /** The bot answering: its update ids are its own. */
  botId: number;
  services: TelegramServices;
  log: Logger;
  timing: StreamTiming;
  /** Shared by the bot: false once the server has shown it has no `sendMessageDraft`. */
  drafts: { available: boolean; nextId: number };
}

/** Shows "typing…" now and every few seconds until stopped; failures (never retried) only cost the indicator. */
function startTyping(context: StreamContext, place: ReplyPlace): () => void {
  const tick = () => {
    withoutRetries(() =>
      context.api.sendChatAction(
        place.chatId,
        'typing',
        place.threadId ? { message_thread_id: place.threadId } : {},
      ),
    ).catch((error: unknown) => {
      context.log.debug({ err: error }, 'typing action failed');
    });
  };
  tick();
  const timer = setInterval(tick, context.timing.typingIntervalMs);
  return () => clearInterval(timer);
}

/**
 * Streams one answer into a chat and leaves the finished answer there. Private chats get an animated draft
 * (`sendMessageDraft`) that the final `sendMessage` replaces; groups — and private chats when drafts fail —
 * get a message that grows by throttled edits, on `consumeThrottled`'s cadence; a preview Telegram refuses for
 * now (a 429, a 5xx, a dropped connection) is skipped, never retried, so the final message never waits for its
 * `retry_after`. "typing…" shows until the first text. The final messages carry
 * the answer, the collapsed reasoning if enabled, a note if the answer was cut short, and the sources; a "not
 * covered" answer adds the hand-off line, and the last message carries the 👍 / 👎 buttons when the core
 * recorded the answer for feedback.
 * Errors before any text are rethrown for the bot's error boundary, after removing any preview.
 * @see https://core.telegram.org/bots/api#sendmessagedraft
 */
export async function streamAnswer(
  context: StreamContext,
  place: ReplyPlace,
  /**
   * The turn's events, rendered in `language`; `signal` is the one the turn was started with: once it aborts
   * (the bot is shutting down) the partial answer is delivered with a note saying so. `updateId` is the update
   * asking: the messages sent for it are recorded, so answering it again after a kill edits them (see
   * `PreviewRecord`); `attempt` counts the processes that started on it (1 the first time).
   */
  request: {
    updateId: number;
    attempt: number;
    events: AsyncIterable<TurnEvent>;
    language: ReplyLanguage;
    signal: AbortSignal;
  },
): Promise<TurnDone> {
  const { api, services, log } = context;
  const options = { showReasoning: services.config.showReasoning, language: request.language };
  const isPrivate = place.chatType === 'private';
  const record = previewRecordFor(
    services.store,
    { botId: context.botId, updateId: request.updateId, attempt: request.attempt },
    log,
  );
  const trail = createMessageTrail(api, place, log, {
    minGapMs: isPrivate ? 0 : context.timing.messageGapMs,
    earlier: await record.load(),
    onChange: record.save,
    isCurrent: record.isCurrent,
  });
  let useDrafts = isPrivate && context.drafts.available;
  const draftId = context.drafts.nextId++;
  let stopTyping: (() => void) | undefined = startTyping(context, place);
  const showDraft = async (html: string) => {
    try {
      await api.sendMessageDraft(place.chatId, draftId, html, {
        parse_mode: 'HTML',
        ...(place.threadId ? { message_thread_id: place.threadId } : {}),
      });
    } catch (error) {
      if (!isParseError(error)) throw error;
      await api.sendMessageDraft(place.chatId, draftId, htmlToPlainText(html));
    }
  };

  /** A draft in a private chat, else the trail's messages; a rate limit is the caller's to handle. */
  const showPreview = async (preview: string[]) => {
    if (useDrafts) {
      // Drafts go around the trail: an attempt a later one took over stops drawing them here.
      if (!(await record.isCurrent())) throw new ReplyTakenOver();
      try {
        return await showDraft(preview.at(-1) as string);
      } catch (error) {
        if (retryAfterMs(error) !== undefined || isPassingFault(error)) throw error;
        useDrafts = false;
        if (isMethodMissing(error)) context.drafts.available = false;
        log.warn({ err: error }, 'drafts unavailable; streaming by edits');
      }
    }
    await trail.show(preview);
  };

  let result: { done: TurnDone; reasoning: string };
  try {
    result = await consumeThrottled(request.events, {
      intervalMs: isPrivate ? context.timing.privateIntervalMs : context.timing.groupIntervalMs,
      hideReasoning: services.config.showReasoning === 'off',
      async update(snapshot) {
        const preview = renderTelegramPreview(snapshot, options);
        if (preview.length === 0) return false;
        if (snapshot.text) {
          stopTyping?.();
          stopTyping = undefined;
        }
        try {
          await withoutRetries(() => showPreview(preview));
        } catch (error) {
          const retryAfter = retryAfterMs(error) ?? (isPassingFault(error) ? 0 : undefined);
          if (retryAfter === undefined) throw error;
          log.info(
            { retryAfterMs: retryAfter, err: error },
            'preview refused for now; skipping previews meanwhile',
          );
          throw new PreviewSkipped(retryAfter, { cause: error });
        }
      },
      onUpdateError(error) {
        // Taken over: the final `show` stops this attempt too.
        if (error instanceof ReplyTakenOver) return;
        log.warn({ err: error }, 'preview update failed; waiting for the end');
      },
    });
  } catch (error) {
    // Refused, or the model failed before any text: the error boundary says so, in place of any preview.
    if (trail.size > 0) await trail.show([]).catch(() => undefined);
    throw error;
  } finally {
    stopTyping?.();
  }
  const { done, reasoning } = result;
  const handoff = done.notCovered ? telegramHandoff(services, request.language) : undefined;
  const final = renderTelegramAnswer(done, reasoning, {
    ...options,
    stopped: request.signal.aborted,
    ...(handoff ? { handoff } : {}),
  });
  const empty = describeErrorForUser(new LlmError('empty', 'empty answer'), request.language);
  const replyMarkup = done.votable ? feedbackKeyboard(done.answerId) : undefined;
  await trail.show(final.length > 0 ? final : [escapeHtml(empty)], replyMarkup ? { replyMarkup } : {});
  await record.markDelivered();
  log.info({ answerId: done.answerId, messages: trail.size }, 'delivered');
  return done;
}
