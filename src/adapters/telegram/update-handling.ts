import { type Bot, BotError, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../core/logger.ts';

/** A poison update (one the bot dies on) is handled at most this many times. */
const maxAttempts = 3;
/**
 * The attempt an update the store could not queue is handled as: later than any the queue can start. The store
 * may hold the update after all (a write whose reply was lost), and a copy the queue hands out meanwhile then
 * leaves the chat to this one (see `PreviewRecord`); without the store, the record fails as it would anyway.
 */
export const unqueuedAttempt = maxAttempts + 1;
/** Telegram keeps undelivered updates for 24 hours; an older question is not worth answering after a restart. */
export const maxReplayAgeMs = 24 * 3_600_000;

/**
 * Whether an update that a stopped process left unfinished is handled again: not when it was received more than
 * a day ago, nor when `maxAttempts` processes already stopped while handling it, so a poison update can't keep
 * crashing the bot. Says why in the log when not.
 */
export function mayReplay(
  updateId: number,
  earlier: { attempts: number; receivedAt: number },
  log: Logger,
  now: number,
): boolean {
  if (now - earlier.receivedAt > maxReplayAgeMs) {
    log.info({ updateId }, 'update too old to replay; dropped');
    return false;
  }
  if (earlier.attempts >= maxAttempts) {
    log.error(
      { updateId, attempts: earlier.attempts },
      'update dropped: the bot stopped while handling it every time',
    );
    return false;
  }
  return true;
}

/**
 * Which attempt at an update the bot is handling, by identity: grammY hands the bot's middleware the very object
 * given to `handleUpdate` as `ctx.update`, and takes nothing else per update. Absent for a first attempt.
 */
const attempts = new WeakMap<Update, number>();

/**
 * Which attempt at `update` this is, as `handleUpdateFully` was told: 1 the first time, more once a stopped (or
 * stalled) process started on it before — only then can an earlier attempt have left messages or a delivered
 * reply in the chat. See `PreviewRecord`.
 */
export function attemptOf(update: Update): number {
  return attempts.get(update) ?? 1;
}

/**
 * Handles one update to the end — the bot's middleware, and its error handler when that fails — and never
 * rejects, so the caller can mark the update done afterwards whatever happened. `attempt` counts the processes
 * that started on the update, this one included (the work queue's or the inbox's count); see `attemptOf`.
 */
export async function handleUpdateFully<C extends Context>(
  bot: Bot<C>,
  update: Update,
  log: Logger,
  { attempt }: { attempt: number } = { attempt: 1 },
): Promise<void> {
  if (attempt > 1) attempts.set(update, attempt);
  try {
    await bot.handleUpdate(update);
  } catch (error) {
    try {
      if (error instanceof BotError) await bot.errorHandler(error as BotError<C>);
      else log.error({ err: error }, 'update failed');
    } catch (handlerError) {
      log.error({ err: handlerError }, 'the error handler failed');
    }
  }
}
