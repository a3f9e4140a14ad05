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
}

const thinkingTypeField = (on: boolean) => ({ thinking: { type: on ? 'enabled' : 'disabled' } });

export const providerPresets = {
  deepseek: {
    baseUrl: 'https://api.deepseek.com',
    model: 'deepseek-flash',
    thinkingFields: thinkingTypeField,
    needsApiKey: true,
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
  ollama: { baseUrl: 'http://localhost:11434/v1', model: 'qwen3:8b', needsApiKey: false },
} satisfies Record<string, ProviderPreset>;

export type ProviderName = keyof typeof providerPresets;
export const providerNames = Object.keys(providerPresets) as [ProviderName, ...ProviderName[]];
