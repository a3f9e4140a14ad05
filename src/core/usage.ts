import type { Metrics } from './metrics.ts';

/** Counts keyed by one label value, e.g. `{ telegram: 12, discord: 3 }`. */
export type CountsBy = Record<string, number>;

/** What this process has done since it started, as `/stats` reports it to an operator. */
export interface UsageStats {
  uptimeSeconds: number;
  /** Questions by outcome: answered, cached, not_covered, incomplete, error. */
  questionsByOutcome: CountsBy;
  questionsByPlatform: CountsBy;
  /** Failed or cut-off answers by cause (`timeout`, `rate_limit`, `InputError` …). */
  errorsByKind: CountsBy;
  rateLimited: number;
  /** Questions refused because a daily token budget was used up. */
  budgetRefused: number;
  /** Model tokens by kind: prompt, completion, reasoning, prompt_cache_hit. */
  tokensByKind: CountsBy;
}

async function countsBy(
  counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  label: string,
): Promise<CountsBy> {
  const counts: CountsBy = {};
  for (const { value, labels } of (await counter.get()).values) {
    const key = String(labels[label] ?? 'unknown');
    counts[key] = (counts[key] ?? 0) + value;
  }
  return counts;
}

/**
 * Reads the usage counters back from the process's own Prometheus registry, so `/stats` and `/metrics` can
 * never disagree. Counters restart at zero with the process; long-term numbers belong in Prometheus.
 */
export async function readUsage(metrics: Metrics, uptimeSeconds: number): Promise<UsageStats> {
  const [questionsByOutcome, questionsByPlatform, errorsByKind, rateLimited, budgetRefused, tokensByKind] =
    await Promise.all([
      countsBy(metrics.questions, 'outcome'),
      countsBy(metrics.questions, 'platform'),
      countsBy(metrics.errors, 'kind'),
      countsBy(metrics.rateLimited, 'platform'),
      countsBy(metrics.budgetRefusals, 'scope'),
      countsBy(metrics.llmTokens, 'kind'),
    ]);
  return {
    uptimeSeconds,
    questionsByOutcome,
    questionsByPlatform,
    errorsByKind,
    rateLimited: Object.values(rateLimited).reduce((sum, n) => sum + n, 0),
    budgetRefused: Object.values(budgetRefused).reduce((sum, n) => sum + n, 0),
    tokensByKind,
  };
}
