/**
 * The few error types the core throws. Adapters turn each into one human sentence
 * (see `describeErrorForUser`) and log the rest; nothing else should reach a user.
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

/** The refusal for a used-up budget: whose budget it was, and when (UTC) it resets. */
export function describeBudgetRefusal(
  scope: 'user' | 'bot',
  resetsAt: number,
  language: 'en' | 'zh',
): string {
  const at = `${new Date(resetsAt).toISOString().slice(11, 16)} UTC`;
  if (scope === 'bot') {
    return language === 'zh'
      ? `本机器人今天的令牌额度已用完，所有人都要等到 ${at} 重置后才能继续提问。`
      : `This bot has used up its token budget for today. Questions are accepted again after the reset at ${at}.`;
  }
  return language === 'zh'
    ? `你今天的令牌额度已用完，将在 ${at} 重置。可用 /usage 查看用量。`
    : `You have used up your token budget for today. It resets at ${at}; see /usage for your figures.`;
}

const llmSentences: Record<LlmErrorKind, { en: string; zh: string }> = {
  auth: {
    en: 'The model provider rejected the API key. The operator needs to check LLM_API_KEY.',
    zh: '模型服务拒绝了 API 密钥，请管理员检查 LLM_API_KEY。',
  },
  rate_limit: {
    en: 'The model provider is rate-limiting me right now. Please try again in a minute.',
    zh: '模型服务当前限流，请一分钟后再试。',
  },
  unavailable: {
    en: 'The model provider is unavailable at the moment. Please try again shortly.',
    zh: '模型服务暂时不可用，请稍后再试。',
  },
  timeout: { en: 'The model took too long to answer. Please try again.', zh: '模型响应超时，请再试一次。' },
  bad_request: {
    en: 'The model provider refused the request. The operator should check the model settings.',
    zh: '模型服务拒绝了请求，请管理员检查模型设置。',
  },
  cut_off: { en: 'The answer was cut off by the model provider.', zh: '回答被模型服务中断了。' },
  empty: {
    en: 'The model returned an empty answer. Please try rephrasing the question.',
    zh: '模型返回了空回答，请换个说法再问。',
  },
};

/**
 * One short sentence for the chat, in the asker's language, never a stack trace or a secret. Unknown
 * errors get a generic sentence: their details belong in the log, not in front of users.
 */
export function describeErrorForUser(error: unknown, language: 'en' | 'zh' = 'en'): string {
  const zh = language === 'zh';
  if (error instanceof InputError) return error.message;
  if (error instanceof BudgetExhaustedError)
    return describeBudgetRefusal(error.scope, error.resetsAt, language);
  if (error instanceof RateLimitedError) {
    return zh
      ? `提问太频繁了，请在 ${error.retryAfterSeconds} 秒后再试。`
      : `You're asking faster than I can answer. Please try again in ${error.retryAfterSeconds} s.`;
  }
  if (error instanceof LlmError) {
    const seconds = error.options.retryAfterSeconds;
    if (error.kind === 'rate_limit' && seconds) {
      return zh
        ? `模型服务当前限流，请在 ${seconds} 秒后再试。`
        : `The model provider is rate-limiting me. Please try again in ${seconds} s.`;
    }
    return llmSentences[error.kind][language];
  }
  if (error instanceof StoreError)
    return zh ? '存储暂时不可用，请稍后再试。' : 'My memory store is unavailable; please try again shortly.';
  return zh
    ? '回答时出了点问题，已记录在日志中，请稍后再试。'
    : 'Something went wrong on my side while answering. It has been logged; please try again.';
}
