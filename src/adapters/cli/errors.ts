import type { Config } from '../../core/config.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import {
  ConfigError,
  InputError,
  LlmError,
  PlatformError,
  StartupError,
  StoreError,
} from '../../core/errors.ts';
import { describeConnectionFailure, withoutCredentials } from '../../logging/connection-failure.ts';

/** A question turned away by a budget or the rate limit; `poquan ask` exits with code 3 and its sentence. */
export class LimitReachedError extends Error {
  override name = 'LimitReachedError';
}

/** The settings a CLI error line may name: where the model and the store are. */
export type CliErrorSettings = Pick<Config, 'llm' | 'storeUrl'>;

/**
 * One line for the terminal, without the `poquan:` prefix: the message of errors meant for people as it is,
 * the user sentence for model failures, and the user sentence plus the message for anything unexpected.
 * Never a stack trace. At the terminal the reader is the operator, so with `settings` a model that could not
 * be reached, did not answer in time or refused the request, and a store that failed, are named by their
 * settings (LLM_BASE_URL, LLM_TIMEOUT_MS, LLM_MODEL, STORE_URL), never with a key or password.
 */
export function describeCliError(error: unknown, settings?: CliErrorSettings): string {
  if (
    error instanceof ConfigError ||
    error instanceof StartupError ||
    error instanceof PlatformError ||
    error instanceof LimitReachedError
  ) {
    return error.message;
  }
  if (error instanceof LlmError) {
    return (settings && describeModelFailure(error, settings.llm)) ?? describeErrorForUser(error);
  }
  if (error instanceof StoreError && settings) {
    return `STORE_URL (${withoutCredentials(settings.storeUrl)}) cannot be used (${error.message}).`;
  }
  if (error instanceof InputError) return describeErrorForUser(error);
  return describeErrorForUser(error) + (error instanceof Error ? ` (${error.message})` : '');
}

/** The failures the settings explain: no HTTP answer at all, none in time, or a refusal other than the key's. */
function describeModelFailure(error: LlmError, llm: Config['llm']): string | undefined {
  const at = `model provider at LLM_BASE_URL (${withoutCredentials(llm.baseUrl)})`;
  const { status } = error.options;
  if (error.kind === 'timeout' && status === undefined) {
    return `No answer from the ${at} within LLM_TIMEOUT_MS (${llm.timeoutMs} ms). Check the URL and the network, or raise LLM_TIMEOUT_MS.`;
  }
  if (error.kind === 'unavailable' && status === undefined) {
    return `Could not reach the ${at}: ${describeConnectionFailure(error)}. Check the URL and the network; \`poquan doctor\` checks every setting.`;
  }
  if (error.kind === 'bad_request' && status !== undefined) {
    return `The ${at} refused the request (HTTP ${status}). Check LLM_BASE_URL (the API root /chat/completions hangs off, often ending in /v1) and LLM_MODEL (${llm.model}); \`poquan doctor\` tells which is wrong.`;
  }
  return undefined;
}
