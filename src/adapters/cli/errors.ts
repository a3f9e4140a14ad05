import { ConfigError, describeErrorForUser, InputError, LlmError, StartupError } from '../../core/errors.ts';

/**
 * One line for the terminal, without the `poquan:` prefix: the message of errors meant for people as it is,
 * the user sentence for model failures, and the user sentence plus the message for anything unexpected.
 * Never a stack trace.
 */
export function describeCliError(error: unknown): string {
  if (error instanceof ConfigError || error instanceof StartupError) return error.message;
  if (error instanceof InputError || error instanceof LlmError) return describeErrorForUser(error);
  return describeErrorForUser(error) + (error instanceof Error ? ` (${error.message})` : '');
}
