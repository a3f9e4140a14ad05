/**
 * The reference BM25 the shipped index is checked against: MiniSearch, a well-used library written
 * independently of Poquan, configured with `bm25Scoring`. The oracle test (test/unit/bm25-oracle.test.ts)
 * requires identical top-k from both, and `npm run bench` times both in one run. Never used by the bot: its
 * search scores and sorts every passage sharing a term with the query, which is what made it slow.
 */
import MiniSearch from 'minisearch';
import type { Passage } from '../src/core/knowledge.ts';
import { bm25Scoring, type PassageIndex } from '../src/core/passage-index.ts';

/** A `PassageIndex` answering every query through `MiniSearch.search`. */
export function createReferenceIndex(
  passages: readonly Passage[],
  tokenize: (text: string) => string[],
): PassageIndex {
  const index = new MiniSearch<{ id: number; text: string; heading: string }>({
    fields: bm25Scoring.fields.map((field) => field.name),
    storeFields: [],
    tokenize,
    processTerm: (term) => term,
  });
  index.addAll(passages.map((passage, id) => ({ id, text: passage.text, heading: passage.heading })));
  const { k, b, d } = bm25Scoring;
  const boost = Object.fromEntries(bm25Scoring.fields.map((field) => [field.name, field.boost]));
  // Terms arrive tokenized, so MiniSearch is asked about exactly these.
  const asGiven = { tokenize: (text: string) => text.split(' '), processTerm: (term: string) => term };
  return {
    size: passages.length,
    tokenize,
    search(terms, limit, only) {
      return index
        .search(terms.join(' '), { ...asGiven, boost, bm25: { k, b, d }, combineWith: 'OR' })
        .filter((result) => !only || only(result.id))
        .slice(0, limit)
        .map((result) => ({ position: result.id as number, score: result.score }));
    },
    passagesWith(term) {
      return index
        .search(term, asGiven)
        .map((result) => result.id as number)
        .sort((x, y) => x - y);
    },
  };
}
