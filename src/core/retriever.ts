import { createGlossaryMatcher } from './glossary.ts';
import type { KnowledgeBase, Passage } from './knowledge.ts';
import type { PassageIndex } from './passage-index.ts';
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
  retrievePassages(query: string, k: number, options?: RetrieveOptions): ScoredPassage[];
  /**
   * How many search terms the text has, and how many of them (or of their glossary translations) occur in
   * the knowledge at all: a question whose every term is unknown is about something else.
   */
  countKnownTerms?(text: string): { terms: number; known: number };
}

/** Options for one retrieval. */
export interface RetrieveOptions {
  /**
   * Texts naming what the query is about, tried in order (a follow-up's own words, then the earlier
   * question it refers to). The first that names something distinctive — a capitalised name, or a glossary
   * name, found in at most half the passages — keeps only the passages naming it, when any do.
   */
  focus?: string[];
}

export interface RetrieverOptions {
  /** Expand queries with glossary synonyms (default true). Off only for the benchmark baseline. */
  expandWithGlossary?: boolean;
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
/** A name found in more passages than this share is what the knowledge is about, not a focus. */
const maxFocusShare = 0.5;

/** Words with a capital letter ("Zhipu", "DeepSeek", "Rui Ma"): names, in the text as written. */
function capitalisedWords(text: string): string {
  return [...text.normalize('NFKC').matchAll(/[\p{L}\p{N}]*\p{Lu}[\p{L}\p{N}]*/gu)]
    .map((m) => m[0])
    .join(' ');
}

/**
 * BM25 retrieval over `index`, which must hold `knowledge.passages` in order. Queries are synchronous: the
 * index is built before (off the main thread for a reload, see `src/search/`).
 */
export function createRetriever(
  knowledge: KnowledgeBase,
  index: PassageIndex,
  options: RetrieverOptions = {},
): Retriever {
  const minScore = options.minScore ?? defaultMinScore;
  const minShareOfBest = options.minShareOfBest ?? defaultMinShareOfBest;
  const expand = options.expandWithGlossary === false ? () => [] : createGlossaryMatcher(knowledge.glossary);

  /** Positions of the passages naming the first focus text that names something distinctive. */
  function focusedPositions(focus: string[]): Set<number> | undefined {
    for (const text of focus) {
      const names = tokenize(
        [capitalisedWords(text), ...expand(text).filter((term) => /\p{Lu}/u.test(term))].join(' '),
      );
      const positions = new Set<number>();
      for (const name of new Set(names)) {
        const found = index.passagesWith(name);
        if (found.length > knowledge.passages.length * maxFocusShare) continue;
        for (const position of found) positions.add(position);
      }
      if (positions.size > 0) return positions;
    }
    return undefined;
  }

  return {
    knowledgeVersion: knowledge.version,
    retrievePassages(query, k, options = {}) {
      const terms = index.tokenize([query, ...expand(query)].join(' '));
      const results = index.search(terms, k);
      const best = results[0]?.score ?? 0;
      const floor = Math.max(minScore, best * minShareOfBest);
      let kept = results.filter((result) => result.score >= floor);
      const focus = options.focus && kept.length > 0 ? focusedPositions(options.focus) : undefined;
      if (focus) {
        // The best k naming the focus, against the floor of the best overall.
        const named = index.search(terms, k, (position) => focus.has(position));
        const aboveFloor = named.filter((result) => result.score >= floor);
        if (aboveFloor.length > 0) kept = aboveFloor;
      }
      return kept.map((result) => ({
        passage: knowledge.passages[result.position] as Passage,
        score: result.score,
      }));
    },
    countKnownTerms(text) {
      const terms = tokenize(text);
      const candidates = new Set([...terms, ...tokenize(expand(text).join(' '))]);
      const known = [...candidates].filter((term) => index.passagesWith(term).length > 0).length;
      return { terms: terms.length, known };
    },
  };
}
