import { catalogFor } from './catalog/catalog.ts';
import type { ContextMode } from './config.ts';
import type { KnowledgeBase } from './knowledge.ts';
import { type KnowledgeTimeline, knowledgeTimeline } from './knowledge-date.ts';
import { renderSystemMessage } from './prompt.ts';
import type { ReplyLanguage } from './question.ts';
import type { ScoredPassage } from './retriever.ts';
import { estimateTokens, formatTokens } from './token-estimate.ts';
import type { Topic } from './topic.ts';

/**
 * What the model is shown for one knowledge version. `full`: every passage, numbered in file order, in one
 * system message built once, so it is byte-identical for every question and chat and DeepSeek's context
 * cache serves it. `retrieve`: the top passages of each question, as before.
 */
export interface ContextStrategy {
  mode: 'full' | 'retrieve';
  /** The `CONTEXT_MODE` setting the mode was chosen from. */
  setting: ContextMode;
  passageCount: number;
  /** Estimated tokens of the system message with every passage in it (`estimateTokens`). */
  fullContextTokens: number;
  budgetTokens: number;
  /** Passages per question in retrieve mode. */
  topK: number;
  /** Full mode: every passage in file order; `[n]` in an answer is `passages[n - 1]`. */
  passages: ScoredPassage[];
  /** Full mode: the system message every request starts with. */
  systemMessage?: string;
  /** Full mode: a passage id's number in the system message. */
  numberOf: Map<string, number>;
  /** The knowledge's date and the years it mentions, for questions about later events. */
  timeline: KnowledgeTimeline;
}

/**
 * Chooses full or retrieve mode for a knowledge version: `auto` takes full context when the system message
 * with every passage fits `budgetTokens`; `full` and `retrieve` force a mode.
 */
export function chooseContextStrategy(
  knowledge: KnowledgeBase,
  settings: { mode: ContextMode; budgetTokens: number; topK: number; topic?: Topic },
): ContextStrategy {
  const passages = knowledge.passages.map((passage) => ({ passage, score: 0 }));
  const systemMessage = renderSystemMessage(passages, settings.topic);
  const fullContextTokens = estimateTokens(systemMessage);
  const full =
    settings.mode === 'full' || (settings.mode === 'auto' && fullContextTokens <= settings.budgetTokens);
  const base = {
    setting: settings.mode,
    passageCount: passages.length,
    fullContextTokens,
    budgetTokens: settings.budgetTokens,
    topK: settings.topK,
    timeline: knowledgeTimeline(knowledge),
  };
  return full
    ? {
        ...base,
        mode: 'full',
        passages,
        systemMessage,
        numberOf: new Map(passages.map(({ passage }, index) => [passage.id, index + 1])),
      }
    : { ...base, mode: 'retrieve', passages: [], numberOf: new Map() };
}

/** One line saying which mode is in force and why, for `/about` and `poquan doctor`. */
export function describeContextStrategy(strategy: ContextStrategy, language: ReplyLanguage): string {
  return catalogFor(language).answers.context({
    mode: strategy.mode,
    forced: strategy.setting === 'auto' ? '' : ` (CONTEXT_MODE=${strategy.setting})`,
    passages: strategy.passageCount,
    tokens: formatTokens(strategy.fullContextTokens),
    fits: strategy.fullContextTokens <= strategy.budgetTokens,
    budget: formatTokens(strategy.budgetTokens),
    topK: strategy.topK,
  });
}
