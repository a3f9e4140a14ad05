import type { Cost } from './answer-events.ts';
import type { AnswerRecord } from './feedback.ts';

/** A user, known only by a prefix of their salted hash, and what their answers used. */
export interface UserSpend {
  user: string;
  answers: number;
  tokens: number;
}

/** What a set of delivered answers used and cost, as `/stats` and `poquan feedback report` show it. */
export interface SpendSummary {
  answers: number;
  /** Prompt plus completion tokens as the model reported them (reasoning is part of completion). */
  tokens: number;
  promptTokens: number;
  /** Prompt tokens served from the provider's context cache. */
  cacheHitTokens: number;
  /** `cacheHitTokens / promptTokens` (0–1); null without prompt tokens. */
  cacheHitShare: number | null;
  /** Money spent, one entry per currency (normally one). */
  cost: Cost[];
  /** Answers that called the model but whose price was unknown, so `cost` leaves them out. */
  unpriced: number;
  /** The users who used most tokens, most first. */
  topUsers: UserSpend[];
}

/** Characters of the salted hash shown per user: enough to tell users apart, too few to matter if leaked. */
const shownHashChars = 12;

/** Sums usage and cost over answer records; pure, so it is tested with fixed records. Ties sort by hash. */
export function summarizeSpend(records: AnswerRecord[], top = 5): SpendSummary {
  let tokens = 0;
  let promptTokens = 0;
  let cacheHitTokens = 0;
  let unpriced = 0;
  const costs = new Map<string, number>();
  const users = new Map<string, UserSpend>();
  for (const record of records) {
    const used = record.usage ? record.usage.promptTokens + record.usage.completionTokens : 0;
    tokens += used;
    promptTokens += record.usage?.promptTokens ?? 0;
    cacheHitTokens += record.usage?.promptCacheHitTokens ?? 0;
    if (record.cost)
      costs.set(record.cost.currency, (costs.get(record.cost.currency) ?? 0) + record.cost.amount);
    else if (record.usage) unpriced += 1;
    if (record.askerHash) {
      const user = record.askerHash.slice(0, shownHashChars);
      const spend = users.get(user) ?? { user, answers: 0, tokens: 0 };
      spend.answers += 1;
      spend.tokens += used;
      users.set(user, spend);
    }
  }
  return {
    answers: records.length,
    tokens,
    promptTokens,
    cacheHitTokens,
    cacheHitShare: promptTokens > 0 ? cacheHitTokens / promptTokens : null,
    cost: [...costs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, amount]) => ({ amount, currency })),
    unpriced,
    topUsers: [...users.values()]
      .sort((a, b) => b.tokens - a.tokens || (a.user < b.user ? -1 : 1))
      .slice(0, top),
  };
}
