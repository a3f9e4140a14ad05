/**
 * The passage index the bot ships: a compact inverted index in typed arrays with every posting's BM25+
 * weight computed at build time, scored exactly as `PassageIndex` specifies (MiniSearch's scores and order).
 *
 * Why not MiniSearch itself: its `search` builds and sorts a result object for every passage sharing any
 * term with the query, and Poquan's glossary-expanded OR queries share a term with most passages (68% of
 * 100,000 in `npm run bench`), so a query took seconds. Here a query adds weights into one reused array and
 * keeps only the best k. The index data is plain typed arrays and one string, so a worker thread can build
 * it and hand it over without copying (`./knowledge-worker.ts`).
 */
import type { Passage } from '../core/knowledge.ts';
import { bm25Scoring, type IndexHit, type PassageIndex } from '../core/passage-index.ts';
import { buildTermTable, openTermTable, type TermTableData } from './term-table.ts';

/** One field's postings in compressed-row form: term t's postings are `offsets[t]` to `offsets[t + 1]`. */
interface FieldPostings {
  offsets: Int32Array;
  /** Passage positions, ascending within a term. */
  passages: Int32Array;
  /** Boost × BM25+ weight of the term in that passage. */
  weights: Float64Array;
}

/** Everything a built index holds: transferable between threads (see `transferablesOf`). */
export interface Bm25IndexData {
  passageCount: number;
  terms: TermTableData;
  /** In `bm25Scoring.fields` order. */
  fields: FieldPostings[];
}

const fieldText: Record<(typeof bm25Scoring.fields)[number]['name'], (passage: Passage) => string> = {
  text: (passage) => passage.text,
  heading: (passage) => passage.heading,
};

/** Term frequencies of one field, gathered passage by passage. */
interface FieldCounts {
  /** Distinct terms per passage: MiniSearch's field length. */
  lengths: Float64Array;
  postings: Array<{ passages: number[]; frequencies: number[] } | undefined>;
}

function weighField(counts: FieldCounts, termCount: number, boost: number): FieldPostings {
  const { lengths, postings } = counts;
  const total = lengths.length;
  const averageLength = lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, total);
  const offsets = new Int32Array(termCount + 1);
  for (let term = 0; term < termCount; term++) {
    offsets[term + 1] = (offsets[term] as number) + (postings[term]?.passages.length ?? 0);
  }
  const passages = new Int32Array(offsets[termCount] as number);
  const weights = new Float64Array(passages.length);
  const { k, b, d } = bm25Scoring;
  for (let term = 0; term < termCount; term++) {
    const list = postings[term];
    if (!list) continue;
    const matching = list.passages.length;
    const inverseFrequency = Math.log(1 + (total - matching + 0.5) / (matching + 0.5));
    let at = offsets[term] as number;
    list.passages.forEach((passage, index) => {
      const frequency = list.frequencies[index] as number;
      const normalized = 1 - b + (b * (lengths[passage] as number)) / averageLength;
      passages[at] = passage;
      weights[at] = boost * inverseFrequency * (d + (frequency * (k + 1)) / (frequency + k * normalized));
      at++;
    });
  }
  return { offsets, passages, weights };
}

/** Tokenizes and weighs every passage: the slow part (about 10 s for 100,000 passages), done once per version. */
export function buildBm25IndexData(
  passages: readonly Passage[],
  tokenize: (text: string) => string[],
): Bm25IndexData {
  const termIds = new Map<string, number>();
  const counts = bm25Scoring.fields.map(({ name }): FieldCounts => {
    const lengths = new Float64Array(passages.length);
    const postings: FieldCounts['postings'] = [];
    passages.forEach((passage, position) => {
      const frequencies = new Map<string, number>();
      for (const term of tokenize(fieldText[name](passage))) {
        frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
      }
      lengths[position] = frequencies.size;
      for (const [term, frequency] of frequencies) {
        let id = termIds.get(term);
        if (id === undefined) {
          id = termIds.size;
          termIds.set(term, id);
        }
        const list = postings[id] ?? { passages: [], frequencies: [] };
        postings[id] = list;
        list.passages.push(position);
        list.frequencies.push(frequency);
      }
    });
    return { lengths, postings };
  });
  return {
    passageCount: passages.length,
    terms: buildTermTable([...termIds.keys()]),
    fields: counts.map((field, index) =>
      weighField(field, termIds.size, bm25Scoring.fields[index]?.boost as number),
    ),
  };
}

/** The buffers `postMessage` can move instead of copying. */
export function transferablesOf(data: Bm25IndexData): ArrayBuffer[] {
  const arrays = [
    data.terms.starts,
    data.terms.slots,
    ...data.fields.flatMap((field) => [field.offsets, field.passages, field.weights]),
  ];
  return arrays.map((array) => array.buffer as ArrayBuffer);
}

/**
 * A `PassageIndex` over built data. Queries are synchronous and reuse scratch arrays sized to the corpus,
 * so two never run at once and a query allocates only its result.
 */
export function openBm25Index(data: Bm25IndexData, tokenize: (text: string) => string[]): PassageIndex {
  const termNumber = openTermTable(data.terms);
  const size = data.passageCount;
  const scores = new Float64Array(size);
  const matchedTerms = new Int32Array(size);
  // A passage's entry equals the current stamp when it was already reached in this query (or for this term).
  const seenInQuery = new Int32Array(size);
  const seenForTerm = new Int32Array(size);
  const reached = new Int32Array(size);
  let queryStamp = 0;
  let termStamp = 0;

  /** Adds every term's weights into `scores`; returns how many passages it reached, listed in `reached`. */
  function accumulate(terms: readonly string[]): number {
    const repeats = new Map<number, number>();
    for (const term of terms) {
      const number = termNumber(term);
      if (number !== -1) repeats.set(number, (repeats.get(number) ?? 0) + 1);
    }
    queryStamp++;
    let reachedCount = 0;
    for (const [term, times] of repeats) {
      termStamp++;
      for (const { offsets, passages, weights } of data.fields) {
        for (let at = offsets[term] as number, end = offsets[term + 1] as number; at < end; at++) {
          const passage = passages[at] as number;
          if (seenInQuery[passage] !== queryStamp) {
            seenInQuery[passage] = queryStamp;
            scores[passage] = 0;
            matchedTerms[passage] = 0;
            reached[reachedCount++] = passage;
          }
          if (seenForTerm[passage] !== termStamp) {
            seenForTerm[passage] = termStamp;
            matchedTerms[passage] = (matchedTerms[passage] as number) + 1;
          }
          scores[passage] = (scores[passage] as number) + times * (weights[at] as number);
        }
      }
    }
    return reachedCount;
  }

  return {
    size,
    tokenize,
    search(terms, k, only) {
      const reachedCount = accumulate(terms);
      // Insertion into a list of at most k, in reach order, so equal scores keep the order they were reached.
      const best: IndexHit[] = [];
      for (let i = 0; i < reachedCount; i++) {
        const position = reached[i] as number;
        const score = (scores[position] as number) * (matchedTerms[position] as number);
        if (best.length === k && score <= (best[k - 1]?.score as number)) continue;
        if (only && !only(position)) continue;
        let at = best.length;
        while (at > 0 && (best[at - 1]?.score as number) < score) at--;
        best.splice(at, 0, { position, score });
        if (best.length > k) best.pop();
      }
      return best;
    },
    passagesWith(term) {
      const number = termNumber(term);
      if (number === -1) return [];
      const found = new Set<number>();
      for (const { offsets, passages } of data.fields) {
        for (let at = offsets[number] as number; at < (offsets[number + 1] as number); at++) {
          found.add(passages[at] as number);
        }
      }
      return [...found].sort((a, b) => a - b);
    },
  };
}
