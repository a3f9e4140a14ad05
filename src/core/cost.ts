import type { Cost, Usage } from './answer-events.ts';
import type { Config } from './config.ts';
import { type PriceTable, providerPresets } from './providers.ts';

/**
 * The prices answers are charged at. With any `LLM_PRICE_*` setting, those settings alone (the config schema
 * requires input and output together; cache hits default to the input price, the currency to USD). Otherwise
 * the preset's table, but only while `LLM_MODEL` is the preset's own model, since another model has another
 * price. Undefined when no price is known, so a cost is never shown as 0 just because no price was found.
 */
export function resolvePrices(llm: Config['llm'], overrides: Config['prices']): PriceTable | undefined {
  const { inputPerM, outputPerM, cachedInputPerM, currency } = overrides;
  if (inputPerM !== undefined && outputPerM !== undefined) {
    return {
      inputPerM,
      outputPerM,
      cachedInputPerM: cachedInputPerM ?? inputPerM,
      currency: currency ?? 'USD',
      readOn: 'LLM_PRICE_*',
    };
  }
  const preset = providerPresets[llm.provider];
  return 'prices' in preset && llm.model === preset.model ? preset.prices : undefined;
}

/**
 * What one model call cost: cache-miss prompt tokens × input price, cache-hit tokens × cached-input price,
 * completion tokens (which include reasoning) × output price, all per million. No usage (offline, cached or
 * failed before any usage arrived) costs 0. Undefined without prices.
 */
export function costOf(usage: Usage | undefined, prices: PriceTable | undefined): Cost | undefined {
  if (!prices) return undefined;
  if (!usage) return { amount: 0, currency: prices.currency };
  const hit = usage.promptCacheHitTokens ?? 0;
  const miss = usage.promptCacheMissTokens ?? usage.promptTokens - hit;
  const amount =
    (miss * prices.inputPerM + hit * prices.cachedInputPerM + usage.completionTokens * prices.outputPerM) /
    1_000_000;
  return { amount, currency: prices.currency };
}

/** A cost for people: the currency and enough decimals to show sub-cent answers (`USD 0.000412`). */
export function formatCost(cost: Cost): string {
  const digits = cost.amount !== 0 && Math.abs(cost.amount) < 0.01 ? 6 : 4;
  return `${cost.currency} ${cost.amount.toFixed(digits)}`;
}
