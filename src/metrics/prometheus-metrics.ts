import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

// Required when the first registry is made, not imported: a CLI run that counts nothing never loads prom-client.
const require = createRequire(import.meta.url);

/** Latency buckets (seconds) from "instant" to "the model is struggling". */
const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];

/**
 * Everything Poquan counts, in one Prometheus registry per process (no global registry, so tests and
 * several instances in one process stay apart). Served at `GET /metrics`.
 */
export function createMetrics() {
  const { Counter, collectDefaultMetrics, Histogram, Registry } = require('prom-client') as typeof PromClient;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'poquan_' });
  return {
    registry,
    questions: new Counter({
      name: 'poquan_questions_total',
      help: 'Questions answered, by platform, answer mode (llm/offline) and outcome',
      labelNames: ['platform', 'mode', 'outcome'] as const,
      registers: [registry],
    }),
    firstTextSeconds: new Histogram({
      name: 'poquan_answer_first_text_seconds',
      help: 'Time from question to the first answer text',
      labelNames: ['platform', 'mode'] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    answerSeconds: new Histogram({
      name: 'poquan_answer_seconds',
      help: 'Time from question to the complete answer',
      labelNames: ['platform', 'mode'] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    retrievalSeconds: new Histogram({
      name: 'poquan_retrieval_seconds',
      help: 'Time to retrieve passages for one question',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
      registers: [registry],
    }),
    llmTokens: new Counter({
      name: 'poquan_llm_tokens_total',
      help: 'Model tokens by kind: prompt, completion, reasoning, and prompt_cache_hit (DeepSeek context cache)',
      labelNames: ['kind', 'model'] as const,
      registers: [registry],
    }),
    llmCost: new Counter({
      name: 'poquan_llm_cost_total',
      help: 'Money spent on model calls, from reported usage times the configured prices, by currency and model',
      labelNames: ['currency', 'model'] as const,
      registers: [registry],
    }),
    budgetRefusals: new Counter({
      name: 'poquan_budget_refusals_total',
      help: 'Questions refused because a daily token budget was used up, by budget (user/bot) and platform',
      labelNames: ['scope', 'platform'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'poquan_rate_limit_rejections_total',
      help: 'Questions refused by the per-user rate limit',
      labelNames: ['platform'] as const,
      registers: [registry],
    }),
    votes: new Counter({
      name: 'poquan_feedback_votes_total',
      help: 'Votes on answers by platform and vote (up/down); change=true when a user switched an earlier vote',
      labelNames: ['platform', 'vote', 'change'] as const,
      registers: [registry],
    }),
    ungroundedFigures: new Counter({
      name: 'poquan_ungrounded_figures_total',
      help: 'Figures in finished answers that no passage given to the model holds (invented or mis-stated numbers)',
      labelNames: ['platform', 'mode'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'poquan_errors_total',
      help: 'Failed or cut-off answers by error kind',
      labelNames: ['platform', 'kind'] as const,
      registers: [registry],
    }),
  };
}

/** The instruments and the registry `GET /metrics` serves; the core sees them through its `Metrics` port. */
export type PrometheusMetrics = ReturnType<typeof createMetrics>;
