import type { Usage } from './answer-events.ts';
import type { Config } from './config.ts';
import { type PriceTable, providerPresets } from './providers.ts';

/** An amount of money in one currency (ISO 4217). */
export interface Cost {
  amount: number;
  currency: string;
}

/**
 * The prices answers are charged at: the preset's table (only while `LLM_MODEL` is the preset's own model,
 * since another model has another price), with each `LLM_PRICE_*` setting replacing its field. Undefined when
 * the input or output price is unknown, so a cost is never shown as 0 just because no price was found. Cache
 * hits without a price of their own are charged at the input price.
 */
export function resolvePrices(llm: Config['llm'], overrides: Config['prices']): PriceTable | undefined {
  const preset = providerPresets[llm.provider];
  const known: Partial<PriceTable> =
    ('prices' in preset && llm.model === preset.model && preset.prices) || {};
  const inputPerM = overrides.inputPerM ?? known.inputPerM;
  const outputPerM = overrides.outputPerM ?? known.outputPerM;
  if (inputPerM === undefined || outputPerM === undefined) return undefined;
  const overridden = Object.values(overrides).some((value) => value !== undefined);
  return {
    inputPerM,
    outputPerM,
    cachedInputPerM: overrides.cachedInputPerM ?? known.cachedInputPerM ?? inputPerM,
    currency: overrides.currency ?? known.currency ?? 'USD',
    readOn: overridden ? 'LLM_PRICE_*' : (known.readOn ?? 'unknown'),
  };
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
