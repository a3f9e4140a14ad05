import type { AnswerMode } from './config.ts';
import type { LlmErrorKind } from './errors.ts';

/** An amount of money in one currency (ISO 4217). */
export interface Cost {
  amount: number;
  currency: string;
}

/** A numbered source behind an answer; `n` matches the `[n]` markers in the answer text. */
export interface Citation {
  n: number;
  id: string;
  source: string;
  heading: string;
}

/** Token counts as the provider reported them; cache fields are DeepSeek's context-cache counters. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens?: number;
  promptCacheHitTokens?: number;
  promptCacheMissTokens?: number;
}

/** The final event of every answer: what was said, on what it rests, and what it cost. */
export interface AnswerDone {
  type: 'done';
  /** Unique per answer given, cached ones included; feedback votes and hand-offs refer to it. */
  answerId: string;
  answer: string;
  citations: Citation[];
  mode: AnswerMode;
  model: string | undefined;
  usage: Usage | undefined;
  /**
   * What the answer cost in money: usage × the configured prices, 0 without a model call. Absent when the
   * price is unknown. Set by the metering around `answer()`.
   */
  cost?: Cost;
  knowledgeVersion: string;
  /** True when no passage matched: the answer says the knowledge does not cover the question. */
  notCovered: boolean;
  /** True when the stream ended early; `answer` then holds what arrived. */
  incomplete: boolean;
  /** Why the stream ended early, when it did. */
  incompleteReason?: LlmErrorKind;
  /** True when replayed from the answer cache rather than generated. */
  cached: boolean;
  /** Time from the question to the complete answer, in milliseconds. */
  latencyMs: number;
  /** What a freshly written answer rests on; absent when it was replayed from the cache. */
  grounding?: Grounding;
}

/** The passages an answer was given and the figures it states that none of them holds. */
export interface Grounding {
  /** In citation order: `[n]` in the answer refers to `passageIds[n - 1]`. */
  passageIds: string[];
  /** Figures as the answer wrote them ("US$8.2bn", "2031年") whose value no given passage holds. */
  ungroundedFigures: string[];
}

/**
 * What `answer()` yields, in order: any number of reasoning and text deltas, then exactly one `done`.
 * Reasoning is the model's thinking and must never be shown as part of the answer.
 */
export type AnswerEvent = { type: 'reasoning'; delta: string } | { type: 'text'; delta: string } | AnswerDone;
