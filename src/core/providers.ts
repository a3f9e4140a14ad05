/**
 * OpenAI-compatible providers Poquan knows by name. A preset only saves typing: `LLM_BASE_URL` and
 * `LLM_MODEL` override it, because providers rename models often.
 */
export interface ProviderPreset {
  baseUrl: string;
  model: string;
  /** Extra request fields that switch the provider's thinking mode, when it has one. */
  thinkingFields?: (on: boolean) => Record<string, unknown>;
  /** Local servers need no key, so a missing key must not mean "offline". */
  needsApiKey: boolean;
  /**
   * What the preset's `model` costs, as the provider's own price page said on `readOn`. Absent where Poquan
   * could not verify a price: cost is then unknown (not shown) unless the `LLM_PRICE_*` settings give one.
   */
  prices?: PriceTable;
}

/** Prices per million tokens in one currency, and the day (`YYYY-MM-DD`) they were read. */
export interface PriceTable {
  /** Prompt tokens that missed the provider's context cache. */
  inputPerM: number;
  /** Prompt tokens served from the context cache. */
  cachedInputPerM: number;
  /** Completion tokens, reasoning included (providers bill thinking as output). */
  outputPerM: number;
  /** ISO 4217 code, e.g. `USD`. */
  currency: string;
  readOn: string;
}

const thinkingTypeField = (on: boolean) => ({ thinking: { type: on ? 'enabled' : 'disabled' } });

export const providerPresets = {
  deepseek: {
    baseUrl: 'https://api.deepseek.com',
    model: 'deepseek-flash',
    thinkingFields: thinkingTypeField,
    needsApiKey: true,
    // DeepSeek bills half of this off-peak (outside 01:00-04:00 and 06:00-10:00 UTC on weekdays); the peak
    // rate is kept, so a cost is an upper bound and a budget in money never runs late.
    // @see https://api-docs.deepseek.com/quick_start/pricing
    prices: {
      inputPerM: 0.3,
      cachedInputPerM: 0.006,
      outputPerM: 1.2,
      currency: 'USD',
      readOn: '2026-12-02',
    },
  },
  qwen: {
    baseUrl: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
    model: 'qwen3-max',
    thinkingFields: (on) => ({ enable_thinking: on }),
    needsApiKey: true,
  },
  moonshot: { baseUrl: 'https://api.moonshot.ai/v1', model: 'kimi-k2.6', needsApiKey: true },
  zhipu: {
    baseUrl: 'https://open.bigmodel.cn/api/paas/v4',
    model: 'glm-5',
    thinkingFields: thinkingTypeField,
    needsApiKey: true,
  },
  minimax: { baseUrl: 'https://api.minimax.io/v1', model: 'MiniMax-M2', needsApiKey: true },
  stepfun: { baseUrl: 'https://api.stepfun.com/v1', model: 'step-3.5-flash', needsApiKey: true },
  openai: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-5-mini', needsApiKey: true },
  // A model on your own machine has no per-token price.
  ollama: {
    baseUrl: 'http://localhost:11434/v1',
    model: 'qwen3:8b',
    needsApiKey: false,
    prices: { inputPerM: 0, cachedInputPerM: 0, outputPerM: 0, currency: 'USD', readOn: '2026-12-02' },
  },
} satisfies Record<string, ProviderPreset>;

export type ProviderName = keyof typeof providerPresets;
export const providerNames = Object.keys(providerPresets) as [ProviderName, ...ProviderName[]];
