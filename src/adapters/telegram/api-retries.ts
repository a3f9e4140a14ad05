import { AsyncLocalStorage } from 'node:async_hooks';
import { autoRetry } from '@grammyjs/auto-retry';
import { HttpError, type Transformer } from 'grammy';
import pRetry from 'p-retry';

const cosmetic = new AsyncLocalStorage<true>();

/** Runs `call` with every Bot API call it makes tried once, without any retry (see `retryTelegramCalls`). */
export function withoutRetries<T>(call: () => Promise<T>): Promise<T> {
  return cosmetic.run(true, call);
}

/**
 * How the bot's Bot API calls survive Telegram's bad moments.
 *
 * - 429 and 5xx: auto-retry waits out `retry_after`, or backs off from 3 s, at most five times.
 * - A dropped connection (grammY's `HttpError`): two more tries, after 0.5 s and 1 s. auto-retry's own network
 *   retries never give up; without any, one drop on the final message would lose a finished answer. A drop
 *   after Telegram has processed a `sendMessage` would show that message twice: rarer than a drop before it,
 *   and a duplicate costs the user less than a lost answer.
 * - `getUpdates` is left to the runner's fetcher, which retries from 100 ms: auto-retry's 3 s would hold back
 *   every chat's next question after one 502 (the adapter logs each failed poll).
 * - Calls made inside `withoutRetries` (streaming previews, "typing…") are tried once: a preview waiting out a
 *   `retry_after` would hold the finished answer back, and the next preview carries newer text anyway.
 * @see https://grammy.dev/plugins/auto-retry
 */
export function retryTelegramCalls(): Transformer {
  const rateLimitsAndOutages = autoRetry({
    maxRetryAttempts: 5,
    maxDelaySeconds: 60,
    rethrowHttpErrors: true,
  });
  return async (prev, method, payload, signal) => {
    if (method === 'getUpdates' || cosmetic.getStore()) return prev(method, payload, signal);
    return pRetry(() => rateLimitsAndOutages(prev, method, payload, signal), {
      retries: 2,
      minTimeout: 500,
      factor: 2,
      randomize: false,
      ...(signal instanceof AbortSignal ? { signal } : {}),
      shouldRetry: ({ error }) => error instanceof HttpError,
    });
  };
}
