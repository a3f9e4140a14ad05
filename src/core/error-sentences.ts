import { catalogFor } from './catalog/catalog.ts';
import { BudgetExhaustedError, InputError, LlmError, RateLimitedError, StoreError } from './errors.ts';
import type { ReplyLanguage } from './question.ts';

/** The refusal for a used-up budget: whose budget it was, and when (UTC) it resets. */
export function describeBudgetRefusal(
  scope: 'user' | 'bot',
  resetsAt: number,
  language: ReplyLanguage,
): string {
  const at = `${new Date(resetsAt).toISOString().slice(11, 16)} UTC`;
  const { errors } = catalogFor(language);
  return scope === 'bot' ? errors.budgetBot(at) : errors.budgetUser(at);
}

/**
 * One short sentence for the chat, in the asker's language, never a stack trace or a secret. Unknown
 * errors get a generic sentence: their details belong in the log, not in front of users.
 */
export function describeErrorForUser(error: unknown, language: ReplyLanguage = 'en'): string {
  const { errors } = catalogFor(language);
  if (error instanceof InputError) return error.message;
  if (error instanceof BudgetExhaustedError)
    return describeBudgetRefusal(error.scope, error.resetsAt, language);
  if (error instanceof RateLimitedError) return errors.rateLimited(error.retryAfterSeconds);
  if (error instanceof LlmError) {
    const seconds = error.options.retryAfterSeconds;
    if (error.kind === 'rate_limit' && seconds) return errors.llmRateLimitedFor(seconds);
    return errors.llm[error.kind];
  }
  if (error instanceof StoreError) return errors.storeUnavailable;
  return errors.unexpected;
}
