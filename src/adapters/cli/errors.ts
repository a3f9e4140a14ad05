import { ConfigError, describeErrorForUser, InputError, LlmError, StartupError } from '../../core/errors.ts';

/** A question turned away by a budget or the rate limit; `poquan ask` exits with code 3 and its sentence. */
export class LimitReachedError extends Error {
  override name = 'LimitReachedError';
}

/**
 * One line for the terminal, without the `poquan:` prefix: the message of errors meant for people as it is,
 * the user sentence for model failures, and the user sentence plus the message for anything unexpected.
 * Never a stack trace.
 */
export function describeCliError(error: unknown): string {
  if (error instanceof ConfigError || error instanceof StartupError || error instanceof LimitReachedError) {
    return error.message;
  }
  if (error instanceof InputError || error instanceof LlmError) return describeErrorForUser(error);
  return describeErrorForUser(error) + (error instanceof Error ? ` (${error.message})` : '');
}
