import { GrammyError, HttpError } from 'grammy';

/** Telegram rejected our HTML (`400 can't parse entities`): the text must be resent without markup. */
export function isParseError(error: unknown): boolean {
  return (
    error instanceof GrammyError &&
    error.error_code === 400 &&
    /can't parse entities/i.test(error.description)
  );
}

/**
 * Telegram refused the message's content rather than the call (`400` other than "not modified", a vanished
 * message or a missing chat): e.g. "message is too long" when its count of our HTML differs from ours, or
 * entities it won't accept. Sending the same text without markup is the way out.
 */
export function isRefusedContent(error: unknown): boolean {
  return (
    error instanceof GrammyError &&
    error.error_code === 400 &&
    !isNotModified(error) &&
    !isMessageGone(error) &&
    !/chat not found|message thread not found|reply message not found/i.test(error.description)
  );
}

/** An edit that would change nothing (`400 message is not modified`): harmless, never shown. */
export function isNotModified(error: unknown): boolean {
  return (
    error instanceof GrammyError &&
    error.error_code === 400 &&
    /message is not modified/i.test(error.description)
  );
}

/**
 * The message we meant to edit is gone (`400 message to edit not found`): someone deleted it while the answer
 * was still growing. The answer goes out as a new message instead.
 */
export function isMessageGone(error: unknown): boolean {
  return (
    error instanceof GrammyError &&
    error.error_code === 400 &&
    /message to edit not found|MESSAGE_ID_INVALID/i.test(error.description)
  );
}

/**
 * The bot may no longer write to the chat (`403 Forbidden: bot was blocked by the user`, kicked from the group,
 * user deactivated). Nothing can be shown there, so it is logged as an outcome, not retried or reported.
 * @see https://core.telegram.org/api/errors#403-forbidden
 */
export function isChatUnreachable(error: unknown): boolean {
  return error instanceof GrammyError && error.error_code === 403;
}

/** The server does not know the method (a Bot API server older than the method), e.g. `sendMessageDraft`. */
export function isMethodMissing(error: unknown): boolean {
  return error instanceof GrammyError && error.error_code === 404;
}

/** Telegram's flood control (`429 Too Many Requests: retry after N`): how long it asks us to wait, in ms. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof GrammyError) || error.error_code !== 429) return undefined;
  return (error.parameters.retry_after ?? 1) * 1000;
}

/** A fault that passes by itself: a dropped connection or a 5xx; the same call may work a moment later. */
export function isPassingFault(error: unknown): boolean {
  return error instanceof HttpError || (error instanceof GrammyError && error.error_code >= 500);
}

/**
 * Removes the bot token from a text shown to the operator (a start-up failure, `poquan webhook`'s output).
 * grammY puts the token in request URLs, and network errors (node-fetch's `FetchError`) repeat the URL in their
 * message. Log lines need no call: the logger scrubs every configured secret.
 */
export function redactToken(text: string, token: string): string {
  const withoutToken = token ? text.replaceAll(token, '[redacted]') : text;
  return withoutToken.replace(/bot\d+:[\w-]+/g, 'bot[redacted]');
}
