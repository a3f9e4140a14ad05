/**
 * The few error types the core throws. Adapters turn each into one human sentence
 * (see `describeErrorForUser` in `error-sentences.ts`) and log the rest; nothing else should reach a user.
 */

/** A setting is missing or malformed; raised once, at start-up. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Poquan could not start: a platform refused a setting or could not be reached. The message names the
 * setting, says it happened at start and holds no secret, so it is printed as it is.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * A platform an operator command calls (`poquan webhook …`) refused the request or could not be reached. The
 * message names the setting to check and holds no secret, so it is printed as it is.
 */
export class PlatformError extends Error {
  override name = 'PlatformError';
}

/** The user's input cannot be answered as given (empty, too long, …). The message is safe to show. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Why a model call failed, so adapters can say something useful and metrics can count by cause. */
export type LlmErrorKind =
  | 'auth'
  | 'rate_limit'
  | 'unavailable'
  | 'timeout'
  | 'bad_request'
  | 'cut_off'
  | 'empty';

/** The model provider refused or failed; `retryAfterSeconds` is set when the provider said when to retry. */
export class LlmError extends Error {
  override name = 'LlmError';
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly options: { status?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}

/** The conversation store could not be read or written. Answers continue without memory. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * The user asked too often; `retryAfterSeconds` says when the next question will be accepted. `alreadyTold`:
 * the user got the notice for this window already, so a chat adapter stays silent instead of repeating it.
 */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    readonly alreadyTold = false,
  ) {
    super(`rate limited for ${retryAfterSeconds}s`);
  }
}

/** A daily token budget is used up: the asker's own (`user`) or the whole bot's, until `resetsAt` (epoch ms). */
export class BudgetExhaustedError extends Error {
  override name = 'BudgetExhaustedError';
  constructor(
    readonly scope: 'user' | 'bot',
    readonly resetsAt: number,
  ) {
    super(`${scope} token budget used up until ${new Date(resetsAt).toISOString()}`);
  }
}

/** True for a question turned away by a limit before any work: said only to the asker, logged at info. */
export function isRefusal(error: unknown): error is RateLimitedError | BudgetExhaustedError {
  return error instanceof RateLimitedError || error instanceof BudgetExhaustedError;
}
