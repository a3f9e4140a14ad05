/** Label values of one observation, by label name. */
export type Labels<Name extends string> = Partial<Record<Name, string | number>>;

/** A counter that only goes up, read back by `/stats` (prom-client's `Counter` satisfies it). */
export interface Counter<Name extends string> {
  inc(labels: Labels<Name>, value?: number): void;
  /** The current value of every label combination counted so far. */
  get(): Promise<{ values: Array<{ value: number; labels: Labels<string> }> }>;
}

/** A distribution of observed values, e.g. latencies in seconds (prom-client's `Histogram` satisfies it). */
export interface Histogram<Name extends string> {
  observe(labels: Labels<Name>, value: number): void;
  observe(value: number): void;
}

/**
 * The port everything Poquan counts goes through; `src/metrics` implements it on prom-client and serves it at
 * `GET /metrics`. The label names are part of the contract: dashboards query them.
 */
export interface Metrics {
  /** Questions answered, by platform, answer mode (llm/offline) and outcome. */
  questions: Counter<'platform' | 'mode' | 'outcome'>;
  /** Seconds from question to the first answer text. */
  firstTextSeconds: Histogram<'platform' | 'mode'>;
  /** Seconds from question to the complete answer. */
  answerSeconds: Histogram<'platform' | 'mode'>;
  /** Seconds to retrieve passages for one question. */
  retrievalSeconds: Histogram<never>;
  /** Model tokens by kind: prompt, completion, reasoning, prompt_cache_hit. */
  llmTokens: Counter<'kind' | 'model'>;
  /** Money spent on model calls, by currency and model. */
  llmCost: Counter<'currency' | 'model'>;
  /** Questions refused because a daily token budget was used up, by budget (user/bot) and platform. */
  budgetRefusals: Counter<'scope' | 'platform'>;
  /** Questions refused by the per-user rate limit. */
  rateLimited: Counter<'platform'>;
  /** Votes on answers by platform and vote; change=true when a user switched an earlier vote. */
  votes: Counter<'platform' | 'vote' | 'change'>;
  /** Figures in finished answers that no passage given to the model holds. */
  ungroundedFigures: Counter<'platform' | 'mode'>;
  /** Failed or cut-off answers by error kind. */
  errors: Counter<'platform' | 'kind'>;
}
