import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createReferenceIndex } from '../../bench/reference-bm25.ts';
import { createRandom, generateCorpus } from '../../bench/synthetic-corpus.ts';
import { type KnowledgeBase, loadKnowledge } from '../../src/core/knowledge.ts';
import type { IndexHit, PassageIndex } from '../../src/core/passage-index.ts';
import { createRetriever, type Retriever, type RetrieverOptions } from '../../src/core/retriever.ts';
import { tokenize } from '../../src/core/tokenize.ts';
import { buildBm25IndexData, openBm25Index } from '../../src/search/bm25-index.ts';

// The shipped index must rank exactly as MiniSearch, an independent BM25 implementation, does: same
// passages in the same order, same scores (to 9 significant digits, as sums in a different order round).

const knowledge = await loadKnowledge('knowledge');
const fixtures = ['qa.jsonl', 'qa-heldout.jsonl', 'qa-heldout-quotes.jsonl', 'qa-follow-ups.jsonl'];
const cases = fixtures.flatMap((name) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { q: string; after?: string }),
);

function bothIndexes(base: KnowledgeBase, tokenizer = tokenize): [PassageIndex, PassageIndex] {
  return [
    openBm25Index(buildBm25IndexData(base.passages, tokenizer), tokenizer),
    createReferenceIndex(base.passages, tokenizer),
  ];
}

function expectSameHits(actual: IndexHit[], expected: IndexHit[], what: string) {
  expect(
    actual.map((hit) => hit.position),
    what,
  ).toEqual(expected.map((hit) => hit.position));
  actual.forEach((hit, at) => {
    expect(hit.score / (expected[at]?.score as number), what).toBeCloseTo(1, 9);
  });
}

function expectSameRetrieval(
  shipped: Retriever,
  reference: Retriever,
  question: string,
  k: number,
  after?: string,
) {
  const options = after ? { focus: [question, after] } : {};
  const ids = (retriever: Retriever) =>
    retriever
      .retrievePassages(question, k, options)
      .map((result) => [result.passage.id, result.score.toPrecision(9)]);
  expect(ids(shipped), question).toEqual(ids(reference));
  expect(shipped.countKnownTerms?.(question), question).toEqual(reference.countKnownTerms?.(question));
}

function retrieversOver(base: KnowledgeBase, options: RetrieverOptions = {}): [Retriever, Retriever] {
  const [shipped, reference] = bothIndexes(base);
  return [createRetriever(base, shipped, options), createRetriever(base, reference, options)];
}

describe('the shipped BM25 index against MiniSearch (the reference)', () => {
  it('retrieves the same top 4 for every question of the QA files, follow-ups with their focus', () => {
    const [shipped, reference] = retrieversOver(knowledge);
    expect(cases.length).toBeGreaterThan(150);
    for (const { q, after } of cases) expectSameRetrieval(shipped, reference, q, 4, after);
  });

  it('ranks the same top 10 with no floors and without glossary expansion', () => {
    for (const options of [
      { minScore: 0, minShareOfBest: 0 },
      { expandWithGlossary: false, minScore: 0 },
    ]) {
      const [shipped, reference] = retrieversOver(knowledge, options);
      for (const { q } of cases) expectSameRetrieval(shipped, reference, q, 10);
    }
  });

  it('ranks the same with another tokenizer (whole lower-cased words)', () => {
    const words = (text: string) =>
      text
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean);
    const [shipped, reference] = bothIndexes(knowledge, words);
    for (const { q } of cases) {
      expectSameHits(shipped.search(words(q), 6), reference.search(words(q), 6), q);
    }
  });

  it('ranks the same for random queries over generated corpora, whole or restricted to some passages', () => {
    for (const seed of [7, 2025]) {
      const corpus = generateCorpus(knowledge, 800, seed);
      const [shipped, reference] = bothIndexes(corpus);
      const random = createRandom(seed);
      const vocabulary = [
        ...new Set(corpus.passages.slice(0, 300).flatMap((passage) => tokenize(passage.text))),
      ].sort();
      const glossaryTerms = corpus.glossary.flatMap((entry) => entry.terms);
      const term = fc.oneof(
        fc.constantFrom(...vocabulary),
        fc.constantFrom(...glossaryTerms).map((text) => tokenize(text).join(' ')),
        fc.string({ minLength: 1, maxLength: 6 }),
      );
      fc.assert(
        fc.property(
          fc.array(term, { minLength: 0, maxLength: 12 }),
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 0, max: 3 }),
          (words, k, restriction) => {
            const terms = words.join(' ').split(' ').filter(Boolean);
            // Restriction 0 keeps every passage; n keeps every (n + 1)th, a focus-like subset.
            const only =
              restriction === 0 ? undefined : (position: number) => position % (restriction + 1) === 0;
            const what = `${terms.join(' ')} (k=${k}, every ${restriction + 1})`;
            expectSameHits(shipped.search(terms, k, only), reference.search(terms, k, only), what);
            const probe = terms[Math.floor(random() * terms.length)] ?? 'deepseek';
            expect(shipped.passagesWith(probe), probe).toEqual(reference.passagesWith(probe));
          },
        ),
        { seed, numRuns: 200 },
      );
    }
  });

  it('retrieves the same for every QA question over a generated corpus where most passages match', () => {
    const [shipped, reference] = retrieversOver(generateCorpus(knowledge, 1000));
    for (const { q, after } of cases) expectSameRetrieval(shipped, reference, q, 4, after);
  });
});
