import { describe, expect, it } from 'vitest';
import { createCompactBm25Retriever } from '../../bench/compact-bm25.ts';
import { loadBenchInputs } from '../../bench/inputs.ts';
import { generateCorpus } from '../../bench/synthetic-corpus.ts';
import type { KnowledgeBase } from '../../src/core/knowledge.ts';
import { type Bm25Options, createBm25Retriever, type Retriever } from '../../src/core/retriever.ts';

const { knowledge, qa } = await loadBenchInputs();
const questions = [...qa.map((question) => question.q), 'DeepSeek DeepSeek DeepSeek', '', '！？'];

function results(retriever: Retriever, question: string, k: number) {
  return retriever
    .retrievePassages(question, k)
    .map((result) => ({ id: result.passage.id, score: result.score }));
}

function expectSameResults(base: KnowledgeBase, options: Bm25Options, k: number) {
  const shipped = createBm25Retriever(base, options);
  const compact = createCompactBm25Retriever(base, options);
  for (const question of questions) {
    const expected = results(shipped, question, k);
    const actual = results(compact, question, k);
    expect(
      actual.map((result) => result.id),
      question,
    ).toEqual(expected.map((result) => result.id));
    actual.forEach((result, index) => {
      expect(result.score).toBeCloseTo(expected[index]?.score as number, 9);
    });
  }
}

// The compact index is the change recommended for src/core/retriever.ts; it is only worth measuring if it
// returns exactly what the shipped retriever returns.
describe('compact BM25 index (bench prototype)', () => {
  it('returns the shipped retriever’s passages and scores on the knowledge file', () => {
    expectSameResults(knowledge, {}, 4);
    expectSameResults(knowledge, { minScore: 0, minShareOfBest: 0 }, 10);
  });

  it('returns them without glossary expansion and with another tokenizer', () => {
    const words = (text: string) =>
      text
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean);
    expectSameResults(knowledge, { expandWithGlossary: false }, 4);
    expectSameResults(knowledge, { expandWithGlossary: false, tokenizer: words, minScore: 0 }, 4);
  });

  it('returns them on a generated corpus, where most passages share a term with every question', () => {
    expectSameResults(generateCorpus(knowledge, 1500), {}, 4);
  });

  it('counts the passages sharing a term with the expanded question', () => {
    const compact = createCompactBm25Retriever(knowledge);
    expect(compact.countMatching('What will the weather be like in Paris tomorrow?')).toBeLessThan(
      compact.countMatching('Who founded DeepSeek?'),
    );
    expect(compact.countMatching('')).toBe(0);
  });
});
