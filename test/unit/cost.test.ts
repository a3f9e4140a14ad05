import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { costOf, formatCost, resolvePrices } from '../../src/core/cost.ts';
import { providerPresets } from '../../src/core/providers.ts';

const pricesFor = (env: Record<string, string>) => {
  const config = loadConfig(env);
  return resolvePrices(config.llm, config.prices);
};

describe('prices', () => {
  it("uses the preset's table for the preset's own model, with the day it was read and its currency", () => {
    expect(pricesFor({})).toEqual(providerPresets.deepseek.prices);
    expect(providerPresets.deepseek.prices.readOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('knows no price for another model or for a preset whose prices are unverified', () => {
    expect(pricesFor({ LLM_MODEL: 'deepseek-v4-pro' })).toBeUndefined();
    expect(pricesFor({ LLM_PROVIDER: 'qwen' })).toBeUndefined();
  });

  it('takes LLM_PRICE_* as a whole table, cache hits at the input price unless given', () => {
    expect(
      pricesFor({ LLM_PROVIDER: 'qwen', LLM_PRICE_INPUT_PER_M: '2.4', LLM_PRICE_OUTPUT_PER_M: '9.6' }),
    ).toEqual({
      inputPerM: 2.4,
      cachedInputPerM: 2.4,
      outputPerM: 9.6,
      currency: 'USD',
      readOn: 'LLM_PRICE_*',
    });
    expect(
      pricesFor({
        LLM_PRICE_INPUT_PER_M: '2',
        LLM_PRICE_CACHED_INPUT_PER_M: '0.04',
        LLM_PRICE_OUTPUT_PER_M: '8',
        LLM_PRICE_CURRENCY: 'CNY',
      }),
    ).toMatchObject({ cachedInputPerM: 0.04, currency: 'CNY' });
  });
});

describe('cost of an answer', () => {
  const prices = { inputPerM: 2, cachedInputPerM: 0.5, outputPerM: 8, currency: 'CNY', readOn: 'test' };

  it('charges cache misses, cache hits and completion (reasoning included) each at their price', () => {
    const usage = {
      promptTokens: 1000,
      completionTokens: 300,
      reasoningTokens: 100,
      promptCacheHitTokens: 600,
    };
    expect(costOf(usage, prices)?.amount).toBeCloseTo((400 * 2 + 600 * 0.5 + 300 * 8) / 1e6, 15);
    expect(costOf(usage, prices)?.currency).toBe('CNY');
  });

  it('is 0 without a model call, and unknown without prices', () => {
    expect(costOf(undefined, prices)).toEqual({ amount: 0, currency: 'CNY' });
    expect(costOf({ promptTokens: 10, completionTokens: 1 }, undefined)).toBeUndefined();
  });

  it('shows sub-cent amounts with enough decimals', () => {
    expect(formatCost({ amount: 0.000412, currency: 'USD' })).toBe('USD 0.000412');
    expect(formatCost({ amount: 1.5, currency: 'CNY' })).toBe('CNY 1.5000');
  });
});
