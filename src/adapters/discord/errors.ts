import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { InputError, isRefusal, LlmError, StoreError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/**
 * The Discord adapter's one error handler: a single structured log line per failure, at a level that
 * says whose problem it is. What the user sees is decided by the caller (always one short sentence).
 */
export function reportError(log: Logger, error: unknown, what: string): void {
  // The logger's error serialiser keeps the code, status and method, never the URL or body (tokens, user text).
  const fields = { err: error };
  if (error instanceof InputError || isRefusal(error)) log.info(fields, what);
  else if (
    error instanceof LlmError ||
    error instanceof StoreError ||
    error instanceof DiscordAPIError ||
    error instanceof HTTPError ||
    error instanceof RateLimitError
  ) {
    log.warn(fields, what);
  } else log.error(fields, what);
}
