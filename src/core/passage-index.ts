/**
 * The port the retriever searches through: a keyword index over the knowledge passages. The retriever owns
 * what a query is (glossary expansion, focus, floors); the index only scores terms. `src/search/` holds the
 * implementation the bot ships.
 */

/** A passage by its position in `KnowledgeBase.passages`, with its score for one query. */
export interface IndexHit {
  position: number;
  score: number;
}

/**
 * How passages are scored: BM25+ per field, weighted by the field's boost. These are MiniSearch's defaults
 * and the boosts the retriever was tuned with (test/fixtures/qa.jsonl), so a MiniSearch index with the
 * same settings is an exact reference for any implementation.
 */
export const bm25Scoring = {
  k: 1.2,
  b: 0.7,
  d: 0.5,
  fields: [
    { name: 'text', boost: 1 },
    { name: 'heading', boost: 0.4 },
  ],
} as const;

/**
 * A keyword index over passages, in the order they were given.
 *
 * Scores are MiniSearch's for an OR query with `bm25Scoring`: for each query term (a term given twice
 * counts twice) the sum over fields of boost × BM25+(term, field, passage), where a field's length is its
 * number of distinct terms; the total is multiplied by the number of distinct query terms the passage has.
 */
export interface PassageIndex {
  /** Number of passages indexed. */
  readonly size: number;
  /** The tokenizer passages were indexed with; queries must be tokenized with it too. */
  tokenize(text: string): string[];
  /**
   * The `k` best-scoring passages containing any of `terms`, best first; among equal scores, the passage
   * first reached when walking the terms in order, each term's fields in `bm25Scoring` order and each field's
   * passages in order comes first (MiniSearch's order). With `only`, passages it rejects are skipped.
   */
  search(terms: readonly string[], k: number, only?: (position: number) => boolean): IndexHit[];
  /** Positions of the passages containing `term` in any field, ascending. */
  passagesWith(term: string): number[];
}
