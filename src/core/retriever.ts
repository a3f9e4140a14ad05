import MiniSearch from 'minisearch';
import { createGlossaryMatcher } from './glossary.ts';
import type { KnowledgeBase, Passage } from './knowledge.ts';
import { tokenize } from './tokenize.ts';

/** A passage with its relevance score; higher is better, scores are only comparable within one query. */
export interface ScoredPassage {
  passage: Passage;
  score: number;
}

/**
 * The port the core retrieves through. Keyword (BM25) search implements it today; a hybrid retriever
 * with embeddings can replace it without touching `answer()`.
 */
export interface Retriever {
  /** The knowledge version the index was built from. */
  readonly knowledgeVersion: string;
  /** Top passages for the query, best first; empty when nothing is relevant enough. */
  retrievePassages(query: string, k: number): ScoredPassage[];
}

export interface Bm25Options {
  /** Expand queries with glossary synonyms (default true). Off only for the benchmark baseline. */
  expandWithGlossary?: boolean;
  /** Tokenizer for passages and queries (default: the bilingual `tokenize`). */
  tokenizer?: (text: string) => string[];
  /** Absolute BM25 score below which a passage counts as noise. */
  minScore?: number;
  /** Passages scoring under this share of the best passage's score are dropped as noise. */
  minShareOfBest?: number;
}

/**
 * Tuned on test/fixtures/qa.jsonl: below this a match is one or two common words ("China", "AI"), which is
 * what an out-of-scope question produces.
 */
export const defaultMinScore = 6;
const defaultMinShareOfBest = 0.25;

/**
 * BM25 over the knowledge passages through MiniSearch (BM25+ scoring, custom tokenizer, no dependencies).
 * The index is built once per knowledge version; queries are synchronous and allocation-light.
 */
export function createBm25Retriever(knowledge: KnowledgeBase, options: Bm25Options = {}): Retriever {
  const tokenizer = options.tokenizer ?? tokenize;
  const minScore = options.minScore ?? defaultMinScore;
  const minShareOfBest = options.minShareOfBest ?? defaultMinShareOfBest;
  const expand = options.expandWithGlossary === false ? () => [] : createGlossaryMatcher(knowledge.glossary);
  const byId = new Map(knowledge.passages.map((passage) => [passage.id, passage]));
  const index = new MiniSearch<Passage>({
    fields: ['text', 'heading'],
    storeFields: [],
    tokenize: tokenizer,
    processTerm: (term) => term,
  });
  index.addAll(knowledge.passages);

  return {
    knowledgeVersion: knowledge.version,
    retrievePassages(query, k) {
      const expanded = [query, ...expand(query)].join(' ');
      const results = index.search(expanded, { boost: { text: 1, heading: 0.4 }, combineWith: 'OR' });
      const best = results[0]?.score ?? 0;
      const floor = Math.max(minScore, best * minShareOfBest);
      return results
        .filter((result) => result.score >= floor)
        .slice(0, k)
        .map((result) => ({ passage: byId.get(result.id) as Passage, score: result.score }));
    },
  };
}
