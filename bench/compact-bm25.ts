/**
 * The change section 3 recommends for `src/core/retriever.ts`, built here so the benchmark can measure it
 * next to the shipped retriever: the same BM25+ scores and thresholds as MiniSearch gives
 * `createBm25Retriever`, from a compact inverted index instead of MiniSearch's search.
 *
 * Why: MiniSearch's `search` builds a result object (with per-term match maps) for every passage that
 * shares any term with the query and sorts them all, and Poquan's queries — OR over the question and its
 * glossary expansion, which includes words like "DeepSeek" and "China" that most passages contain — match
 * most of a large corpus. Here the BM25 weight of every posting is computed once at build time (it depends
 * only on term frequency, passage length and document frequency), a query adds weights into one reused
 * array, and only the top k are kept.
 */

import { createGlossaryMatcher } from '../src/core/glossary.ts';
import type { KnowledgeBase, Passage } from '../src/core/knowledge.ts';
import {
  type Bm25Options,
  defaultMinScore,
  type Retriever,
  type ScoredPassage,
} from '../src/core/retriever.ts';
import { tokenize } from '../src/core/tokenize.ts';

// MiniSearch's BM25+ parameters and Poquan's field boosts and noise share, so scores and thresholds match.
const bm25 = { k: 1.2, b: 0.7, d: 0.5 };
const fields = [
  { boost: 1, read: (passage: Passage) => passage.text },
  { boost: 0.4, read: (passage: Passage) => passage.heading },
] as const;
const defaultMinShareOfBest = 0.25;

/** One field's postings in compressed-row form: term t's postings are `offsets[t]` to `offsets[t + 1]`. */
interface FieldPostings {
  offsets: Int32Array;
  passages: Int32Array;
  /** Boost × BM25+ score of the term in that passage, computed at build time. */
  weights: Float64Array;
}

function buildField(
  termCount: number,
  postings: Array<{ passages: number[]; frequencies: number[] } | undefined>,
  lengths: Float64Array,
  boost: number,
): FieldPostings {
  const total = lengths.length;
  const averageLength = lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, total);
  const offsets = new Int32Array(termCount + 1);
  for (let term = 0; term < termCount; term++) {
    offsets[term + 1] = (offsets[term] as number) + (postings[term]?.passages.length ?? 0);
  }
  const size = offsets[termCount] as number;
  const passages = new Int32Array(size);
  const weights = new Float64Array(size);
  for (let term = 0; term < termCount; term++) {
    const list = postings[term];
    if (!list) continue;
    const matching = list.passages.length;
    const inverseFrequency = Math.log(1 + (total - matching + 0.5) / (matching + 0.5));
    let at = offsets[term] as number;
    list.passages.forEach((passage, index) => {
      const frequency = list.frequencies[index] as number;
      const normalized = 1 - bm25.b + (bm25.b * (lengths[passage] as number)) / averageLength;
      passages[at] = passage;
      weights[at] =
        boost * inverseFrequency * (bm25.d + (frequency * (bm25.k + 1)) / (frequency + bm25.k * normalized));
      at++;
    });
  }
  return { offsets, passages, weights };
}

/** The prototype's retriever, plus what the benchmark reports to explain MiniSearch's cost. */
export interface CompactRetriever extends Retriever {
  /** How many passages share at least one term with the expanded query: what MiniSearch scores and sorts. */
  countMatching(query: string): number;
}

/**
 * A drop-in `Retriever` with `createBm25Retriever`'s options and results: the same terms, BM25+ scores
 * (MiniSearch's, times the number of distinct query terms matched), floors and order.
 */
export function createCompactBm25Retriever(
  knowledge: KnowledgeBase,
  options: Bm25Options = {},
): CompactRetriever {
  const tokenizer = options.tokenizer ?? tokenize;
  const minScore = options.minScore ?? defaultMinScore;
  const minShareOfBest = options.minShareOfBest ?? defaultMinShareOfBest;
  const expand = options.expandWithGlossary === false ? () => [] : createGlossaryMatcher(knowledge.glossary);
  const passages = knowledge.passages;
  const termIds = new Map<string, number>();
  const built = fields.map((field) => {
    // MiniSearch's field length is the number of distinct terms in the field.
    const lengths = new Float64Array(passages.length);
    const postings: Array<{ passages: number[]; frequencies: number[] } | undefined> = [];
    passages.forEach((passage, index) => {
      const frequencies = new Map<string, number>();
      for (const term of tokenizer(field.read(passage)))
        frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
      lengths[index] = frequencies.size;
      for (const [term, frequency] of frequencies) {
        let id = termIds.get(term);
        if (id === undefined) {
          id = termIds.size;
          termIds.set(term, id);
        }
        const list = postings[id] ?? { passages: [], frequencies: [] };
        postings[id] = list;
        list.passages.push(index);
        list.frequencies.push(frequency);
      }
    });
    return { lengths, postings };
  });
  const index = built.map(({ lengths, postings }, field) =>
    buildField(termIds.size, postings, lengths, fields[field]?.boost as number),
  );

  // Scratch space reused by every query (queries are synchronous, so never shared between two).
  const scores = new Float64Array(passages.length);
  const matchedTerms = new Int32Array(passages.length);
  const seenInQuery = new Int32Array(passages.length);
  const seenForTerm = new Int32Array(passages.length);
  const touched = new Int32Array(passages.length);
  let queryStamp = 0;
  let termStamp = 0;

  /** Adds every query term's weights into `scores`; returns how many passages it touched (listed in `touched`). */
  function accumulate(query: string): number {
    const terms = new Map<string, number>();
    for (const term of tokenizer([query, ...expand(query)].join(' ')))
      terms.set(term, (terms.get(term) ?? 0) + 1);
    queryStamp++;
    let touchedCount = 0;
    for (const [term, repeats] of terms) {
      const id = termIds.get(term);
      if (id === undefined) continue;
      termStamp++;
      for (const { offsets, passages: postingPassages, weights } of index) {
        for (let at = offsets[id] as number, end = offsets[id + 1] as number; at < end; at++) {
          const passage = postingPassages[at] as number;
          if (seenInQuery[passage] !== queryStamp) {
            seenInQuery[passage] = queryStamp;
            scores[passage] = 0;
            matchedTerms[passage] = 0;
            touched[touchedCount++] = passage;
          }
          if (seenForTerm[passage] !== termStamp) {
            seenForTerm[passage] = termStamp;
            matchedTerms[passage] = (matchedTerms[passage] as number) + 1;
          }
          // A repeated query term counts once per repetition, as MiniSearch's OR of per-term results does.
          scores[passage] = (scores[passage] as number) + repeats * (weights[at] as number);
        }
      }
    }
    return touchedCount;
  }

  return {
    knowledgeVersion: knowledge.version,
    countMatching: accumulate,
    retrievePassages(query, k) {
      const touchedCount = accumulate(query);
      // The k best in first-matched order on ties, as MiniSearch's stable sort leaves them.
      const best: Array<{ passage: number; score: number }> = [];
      for (let i = 0; i < touchedCount; i++) {
        const passage = touched[i] as number;
        const score = (scores[passage] as number) * (matchedTerms[passage] as number);
        if (best.length === k && score <= (best[k - 1]?.score as number)) continue;
        let position = best.length;
        while (position > 0 && (best[position - 1]?.score as number) < score) position--;
        best.splice(position, 0, { passage, score });
        if (best.length > k) best.pop();
      }
      const floor = Math.max(minScore, (best[0]?.score ?? 0) * minShareOfBest);
      return best
        .filter((result) => result.score >= floor)
        .map(
          (result): ScoredPassage => ({ passage: passages[result.passage] as Passage, score: result.score }),
        );
    },
  };
}
