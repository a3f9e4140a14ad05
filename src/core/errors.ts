/**
 * The few error types the core throws. Adapters turn each into one human sentence
 * (see `describeErrorForUser`) and log the rest; nothing else should reach a user.
 */

/** A setting is missing or malformed; raised once, at start-up. */
export class ConfigError extends Error {
  override name = 'ConfigError';
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

/** The user asked too often; `retryAfterSeconds` says when the next question will be accepted. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(readonly retryAfterSeconds: number) {
    super(`rate limited for ${retryAfterSeconds}s`);
  }
}

const llmSentences: Record<LlmErrorKind, string> = {
  auth: 'The model provider rejected the API key. The operator needs to check LLM_API_KEY.',
  rate_limit: 'The model provider is rate-limiting me right now. Please try again in a minute.',
  unavailable: 'The model provider is unavailable at the moment. Please try again shortly.',
  timeout: 'The model took too long to answer. Please try again.',
  bad_request: 'The model provider refused the request. The operator should check the model settings.',
  cut_off: 'The answer was cut off by the model provider.',
  empty: 'The model returned an empty answer. Please try rephrasing the question.',
};

/**
 * One short sentence for the chat, never a stack trace or a secret. Unknown errors get a
 * generic sentence: their details belong in the log, not in front of users.
 */
export function describeErrorForUser(error: unknown): string {
  if (error instanceof InputError) return error.message;
  if (error instanceof RateLimitedError) {
    return `You're asking faster than I can answer. Please try again in ${error.retryAfterSeconds} s.`;
  }
  if (error instanceof LlmError) {
    const sentence = llmSentences[error.kind];
    if (error.kind === 'rate_limit' && error.options.retryAfterSeconds) {
      return `The model provider is rate-limiting me. Please try again in ${error.options.retryAfterSeconds} s.`;
    }
    return sentence;
  }
  if (error instanceof StoreError) return 'My memory store is unavailable; please try again shortly.';
  return 'Something went wrong on my side while answering. The operator has been told in the logs.';
}
