import { type Bot, BotError, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../core/logger.ts';

/** A poison update (one the bot dies on) is handled at most this many times. */
const maxAttempts = 3;
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
 * The updates being handled again (a stopped process started on them), by identity: grammY hands the bot's
 * middleware the very object given to `handleUpdate` as `ctx.update`, and takes nothing else per update.
 */
const replays = new WeakSet<Update>();

/**
 * True when `update` was handed to `handleUpdateFully` as a replay: only then can an earlier attempt have left
 * messages or a delivered reply in the chat, so only then is the store asked about them.
 */
export function isReplay(update: Update): boolean {
  return replays.has(update);
}

/**
 * Handles one update to the end — the bot's middleware, and its error handler when that fails — and never
 * rejects, so the caller can mark the update done afterwards whatever happened. `replay` says that a stopped
 * process started on the update before (the work queue or the inbox counted an earlier attempt); see `isReplay`.
 */
export async function handleUpdateFully<C extends Context>(
  bot: Bot<C>,
  update: Update,
  log: Logger,
  { replay }: { replay: boolean } = { replay: false },
): Promise<void> {
  if (replay) replays.add(update);
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
