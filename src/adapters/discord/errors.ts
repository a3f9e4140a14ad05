import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { InputError, isRefusal, LlmError, StoreError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/** Interaction and webhook tokens sit in REST paths; they must never reach a log line. */
function redactPathTokens(text: string): string {
  return text.replace(/(\/(?:webhooks\/\d+|interactions\/\d+))\/[^/\s?]+/g, '$1/[token]');
}

/**
 * The fields of an error that are safe to log: Discord's code and status, the method, the cause's kind —
 * never the request URL, body or headers, which carry interaction tokens, user text and the bot token.
 */
export function safeErrorFields(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError) {
    return {
      name: 'DiscordAPIError',
      code: error.code,
      status: error.status,
      method: error.method,
      message: error.message,
    };
  }
  if (error instanceof HTTPError) return { name: 'HTTPError', status: error.status, method: error.method };
  if (error instanceof RateLimitError) {
    return {
      name: 'RateLimitError',
      route: error.route,
      retryAfterMs: error.retryAfter,
      global: error.global,
    };
  }
  if (error instanceof LlmError) return { name: error.name, kind: error.kind, status: error.options.status };
  if (error instanceof Error) return { name: error.name, message: redactPathTokens(error.message) };
  return { name: typeof error, message: redactPathTokens(String(error)) };
}

/**
 * The Discord adapter's one error handler: a single structured log line per failure, at a level that
 * says whose problem it is. What the user sees is decided by the caller (always one short sentence).
 */
export function reportError(log: Logger, error: unknown, what: string): void {
  const fields = { err: safeErrorFields(error) };
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
