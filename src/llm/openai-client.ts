import OpenAI from 'openai';
import type { Usage } from '../core/answer-events.ts';
import type { Config } from '../core/config.ts';
import { LlmError, type LlmErrorKind } from '../core/errors.ts';
import type { LlmClient } from '../core/llm.ts';
import { providerPresets } from '../core/providers.ts';

interface DeepSeekUsage extends OpenAI.CompletionUsage {
  prompt_cache_hit_tokens?: number;
  prompt_cache_miss_tokens?: number;
}

function toUsage(usage: DeepSeekUsage): Usage {
  const result: Usage = { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (reasoning !== undefined) result.reasoningTokens = reasoning;
  const hit = usage.prompt_cache_hit_tokens ?? usage.prompt_tokens_details?.cached_tokens;
  if (hit !== undefined && hit !== null) result.promptCacheHitTokens = hit;
  if (usage.prompt_cache_miss_tokens !== undefined)
    result.promptCacheMissTokens = usage.prompt_cache_miss_tokens;
  return result;
}

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function kindForStatus(status: number): LlmErrorKind {
  if (status === 401 || status === 403 || status === 402) return 'auth';
  if (status === 429) return 'rate_limit';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'bad_request';
}

/** Maps the SDK's errors to the core's, keeping status and Retry-After but never the request (it holds the key). */
export function toLlmError(error: unknown, idleTimedOut: boolean): LlmError {
  if (error instanceof LlmError) return error;
  if (idleTimedOut || error instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError('timeout', 'model request timed out', { cause: error });
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const options: { status: number; retryAfterSeconds?: number; cause: unknown } = {
      status: error.status,
      cause: error,
    };
    const retryAfter = retryAfterSeconds(error.headers);
    if (retryAfter !== undefined) options.retryAfterSeconds = retryAfter;
    return new LlmError(kindForStatus(error.status), `model provider answered ${error.status}`, options);
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new LlmError('unavailable', 'model provider unreachable', { cause: error });
  }
  return new LlmError('cut_off', `model stream failed: ${(error as Error)?.message ?? error}`, {
    cause: error,
  });
}

/**
 * An `LlmClient` over any OpenAI-compatible endpoint through the official `openai` SDK. The SDK retries
 * 429/5xx/connection failures before the stream starts (honouring Retry-After); once text has streamed,
 * nothing is retried, because the user has already seen it.
 */
export function createOpenAiLlm(settings: Config['llm']): LlmClient {
  const preset = providerPresets[settings.provider];
  const client = new OpenAI({
    baseURL: settings.baseUrl,
    apiKey: settings.apiKey ?? 'not-needed',
    maxRetries: settings.maxRetries,
    timeout: settings.timeoutMs,
    // The SDK would print malformed stream lines to the console; failures reach our logs as LlmError instead.
    logLevel: 'off',
  });
  const extraFields = 'thinkingFields' in preset ? preset.thinkingFields(settings.thinking) : {};
  const noThinkingFields = 'thinkingFields' in preset ? preset.thinkingFields(false) : {};

  return {
    model: settings.model,
    provider: settings.provider,
    baseUrl: settings.baseUrl,
    async complete(messages, options) {
      try {
        const completion = await client.chat.completions.create(
          { model: settings.model, messages, max_tokens: options.maxTokens, ...noThinkingFields },
          { maxRetries: 0, ...(options.signal ? { signal: options.signal } : {}) },
        );
        const text = completion.choices[0]?.message.content ?? '';
        return completion.usage ? { text, usage: toUsage(completion.usage as DeepSeekUsage) } : { text };
      } catch (error) {
        throw toLlmError(error, options.signal?.aborted === true);
      }
    },
    async *streamChat(messages, options = {}) {
      // The SDK's timeout covers waiting for headers; this one also covers a stream that goes quiet.
      const controller = new AbortController();
      const abortFromCaller = () => controller.abort();
      options.signal?.addEventListener('abort', abortFromCaller, { once: true });
      let idleTimedOut = false;
      let idleTimer: NodeJS.Timeout | undefined;
      const armIdleTimer = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          idleTimedOut = true;
          controller.abort();
        }, settings.timeoutMs);
      };
      let finished = false;
      try {
        armIdleTimer();
        const stream = await client.chat.completions.create(
          {
            model: settings.model,
            messages,
            stream: true,
            stream_options: { include_usage: true },
            max_tokens: settings.maxTokens,
            ...extraFields,
          },
          { signal: controller.signal },
        );
        for await (const chunk of stream) {
          armIdleTimer();
          if (chunk.usage) yield { type: 'usage', usage: toUsage(chunk.usage as DeepSeekUsage) };
          const choice = chunk.choices[0];
          if (!choice) continue;
          const delta = choice.delta as { content?: string | null; reasoning_content?: string | null };
          if (delta.reasoning_content) yield { type: 'reasoning', delta: delta.reasoning_content };
          if (delta.content) yield { type: 'text', delta: delta.content };
          if (choice.finish_reason) {
            finished = true;
            yield { type: 'finish', reason: choice.finish_reason };
          }
        }
        // The SDK ends the iteration quietly when our idle timer aborts it: a stalled stream is a timeout.
        if (!finished && idleTimedOut) throw new LlmError('timeout', 'model stream stalled');
        if (!finished) throw new LlmError('cut_off', 'model stream ended without a finish reason');
      } catch (error) {
        if (options.signal?.aborted) throw new LlmError('cut_off', 'answer cancelled', { cause: error });
        throw toLlmError(error, idleTimedOut);
      } finally {
        clearTimeout(idleTimer);
        options.signal?.removeEventListener('abort', abortFromCaller);
      }
    },
  };
}
