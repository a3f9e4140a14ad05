import { describe, expect, it } from 'vitest';
import { statesFact } from '../../src/core/answer-check.ts';
import { readQaFile } from '../../src/core/evaluate.ts';
import { loadKnowledge } from '../../src/core/knowledge.ts';
import { extractiveAnswer, offlinePassagePool } from '../../src/core/offline-answer.ts';
import { retrieveWithParaphrases } from '../../src/core/paraphrases.ts';
import { detectLanguage } from '../../src/core/question.ts';
import { createBm25Retriever } from '../../src/search/bm25-retriever.ts';

const knowledge = await loadKnowledge('knowledge');
const retriever = createBm25Retriever(knowledge);

/** What an offline answer retrieves and quotes for a first question, as `answer()` does. */
function offlineAnswer(question: string) {
  const passages = retrieveWithParaphrases(retriever, question, offlinePassagePool);
  const answer =
    passages.length > 0 ? extractiveAnswer(question, passages, detectLanguage(question), knowledge) : '';
  const firstQuote = answer.split('\n').find((line) => line.startsWith('- ')) ?? '';
  return { passages, firstQuote };
}

describe('offline answers on the shipped knowledge file', () => {
  it.each(['test/fixtures/qa.jsonl', 'test/fixtures/qa-heldout-quotes.jsonl'])(
    'open, where retrieval found the fact, with a quote holding it for 85 in 100 questions of %s',
    async (file) => {
      const reachable = (await readQaFile(file)).flatMap((qa) => {
        if (!('expect_any' in qa)) return [];
        const { passages, firstQuote } = offlineAnswer(qa.q);
        const found = passages.some(({ passage }) =>
          qa.expect_any.some((fact) => statesFact(passage.text, fact, knowledge.glossary)),
        );
        return found ? [{ qa, firstQuote }] : [];
      });
      const misses = reachable.filter(
        ({ qa, firstQuote }) =>
          !qa.expect_any.some((fact) => statesFact(firstQuote, fact, knowledge.glossary)),
      );
      expect(reachable.length).toBeGreaterThan(30);
      expect(
        1 - misses.length / reachable.length,
        `misses: ${misses.map(({ qa }) => qa.q).join(' | ')}`,
      ).toBeGreaterThanOrEqual(0.85);
    },
  );

  // The issue-12 goal as `eval --answers` measures it offline: every in-scope question counts, a wrong
  // "not covered" too. qa-unseen-quotes.jsonl was written before the sentence ranker was tuned and
  // qa-fresh-quotes.jsonl after it; neither was tuned on (BENCHMARKS.md, "Offline first quote").
  it.each([
    'test/fixtures/qa-heldout-quotes.jsonl',
    'test/fixtures/qa-unseen-quotes.jsonl',
    'test/fixtures/qa-fresh-quotes.jsonl',
  ])('open with a quote holding the answer for at least 85 in 100 in-scope questions of %s', async (file) => {
    const inScope = (await readQaFile(file)).flatMap((qa) => ('expect_any' in qa ? [qa] : []));
    const misses = inScope.filter((qa) => {
      const { firstQuote } = offlineAnswer(qa.q);
      return !qa.expect_any.some((fact) => statesFact(firstQuote, fact, knowledge.glossary));
    });
    expect(inScope.length).toBeGreaterThanOrEqual(35);
    expect(
      1 - misses.length / inScope.length,
      `misses: ${misses.map((qa) => qa.q).join(' | ')}`,
    ).toBeGreaterThanOrEqual(0.85);
  });
});
