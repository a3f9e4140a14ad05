import type { Config } from '../core/config.ts';
import { describeErrorForUser } from '../core/error-sentences.ts';
import { LlmError, type LlmErrorKind } from '../core/errors.ts';
import { createOpenAiLlm } from '../llm/openai-client.ts';
import { describeConnectionFailure, withoutCredentials } from '../logging/connection-failure.ts';
import { type DoctorCheck, failed, jsonBody, networkReason } from './check.ts';

const modelFixes: Partial<Record<LlmErrorKind, string>> = {
  auth: 'check LLM_API_KEY (and that it belongs to LLM_PROVIDER), and the account balance',
  unavailable: 'check that LLM_BASE_URL is right and reachable from this machine',
  timeout: 'check that LLM_BASE_URL is reachable, or raise LLM_TIMEOUT_MS',
  bad_request: 'check LLM_MODEL: the provider may have renamed or retired it',
  rate_limit: 'the key is rate-limited right now; try again later or raise the plan limits',
};

/** What `GET {LLM_BASE_URL}/models` said: the model ids, or why there is no OpenAI-shaped list there. */
type ModelList = { ids: string[] } | { problem: string };

/**
 * Reads the OpenAI-compatible model list (`{data: [{id}]}`), which DeepSeek, Qwen, Moonshot, Ollama and
 * most others serve next to `/chat/completions`.
 * @see https://api-docs.deepseek.com/api/list-models
 */
async function listModels(llm: Config['llm']): Promise<ModelList> {
  let response: Response;
  try {
    response = await fetch(`${llm.baseUrl}/models`, {
      headers: llm.apiKey ? { authorization: `Bearer ${llm.apiKey}` } : {},
      signal: AbortSignal.timeout(llm.timeoutMs),
    });
  } catch (error) {
    return { problem: `GET /models failed (${networkReason(error)})` };
  }
  const body = (await jsonBody(response)) as { data?: Array<{ id?: unknown }> } | undefined;
  if (!response.ok || !Array.isArray(body?.data)) {
    return {
      problem: `GET /models answered ${response.status}${response.ok ? ' without a model list' : ''}`,
    };
  }
  return { ids: body.data.map((model) => String(model.id)) };
}

/**
 * Why a chat request came back 404 or unusable: a wrong `LLM_MODEL` when the endpoint lists its models and
 * the configured one is not among them; a wrong `LLM_BASE_URL` when there is no OpenAI-shaped API there at
 * all. A 400 proves the endpoint exists, so it never blames the URL.
 */
async function blameNotFound(llm: Config['llm'], error: LlmError): Promise<{ detail: string; fix: string }> {
  const models = await listModels(llm);
  if ('ids' in models && !models.ids.includes(llm.model)) {
    const offered = models.ids.slice(0, 8).join(', ') || 'none';
    return {
      detail: `${llm.baseUrl} does not offer the model ${llm.model} (${error.message})`,
      fix: `set LLM_MODEL to a model it offers: ${offered}`,
    };
  }
  if (error.options.status === 400) {
    return { detail: error.message, fix: modelFixes.bad_request as string };
  }
  if ('problem' in models) {
    return {
      detail: `${llm.baseUrl} is not an OpenAI-compatible API (${error.message}; ${models.problem})`,
      fix: 'check LLM_BASE_URL: it is the API root that /chat/completions hangs off, often ending in /v1 (see "Point it at a model" in the README)',
    };
  }
  return {
    detail: `${llm.baseUrl} lists ${llm.model} but its chat endpoint failed (${error.message})`,
    fix: 'check LLM_BASE_URL: it is the API root that /chat/completions hangs off',
  };
}

/**
 * Sends a one-token chat request, exactly as answers do. When it fails for a reason the status alone can't
 * name — a 404, a 400, a reply that is not a completion — the model list tells a wrong URL from a wrong model.
 */
export async function checkModel(config: Config): Promise<DoctorCheck> {
  const { llm } = config;
  if (llm.mode === 'offline') {
    return {
      name: 'model',
      ok: true,
      detail: 'offline mode (no LLM_API_KEY): answers quote passages',
      fix: 'set LLM_API_KEY for written answers',
    };
  }
  const started = Date.now();
  try {
    const client = createOpenAiLlm({ ...llm, maxRetries: 0, maxTokens: 1, thinking: false });
    for await (const _ of client.streamChat([{ role: 'user', content: 'ping' }])) void _;
    return {
      name: 'model',
      ok: true,
      detail: `${llm.model} at ${llm.baseUrl} answered in ${Date.now() - started} ms`,
    };
  } catch (error) {
    if (!(error instanceof LlmError)) {
      return failed('model', (error as Error).message ?? String(error), describeErrorForUser(error));
    }
    if (error.options.status === undefined && (error.kind === 'unavailable' || error.kind === 'timeout')) {
      const where = withoutCredentials(llm.baseUrl);
      const detail =
        error.kind === 'timeout'
          ? `no answer from ${where} within LLM_TIMEOUT_MS (${llm.timeoutMs} ms)`
          : `could not reach ${where}: ${describeConnectionFailure(error)}`;
      return failed('model', detail, modelFixes[error.kind] as string);
    }
    const unclear = error.options.status === 404 || ['bad_request', 'cut_off', 'empty'].includes(error.kind);
    if (unclear) {
      const { detail, fix } = await blameNotFound(llm, error);
      return failed('model', detail, fix);
    }
    return failed('model', error.message, modelFixes[error.kind] ?? describeErrorForUser(error));
  }
}
