import { describe, expect, it } from 'vitest';
import { statesFact } from '../../src/core/answer-check.ts';
import { readQaFile } from '../../src/core/evaluate.ts';
import { loadKnowledge } from '../../src/core/knowledge.ts';
import { extractiveAnswer } from '../../src/core/offline-answer.ts';
import { detectLanguage } from '../../src/core/question.ts';
import { createBm25Retriever } from '../../src/search/bm25-retriever.ts';

const knowledge = await loadKnowledge('knowledge');
const retriever = createBm25Retriever(knowledge);

describe('offline answers on the shipped knowledge file', () => {
  it.each(['test/fixtures/qa.jsonl', 'test/fixtures/qa-heldout-quotes.jsonl'])(
    'open, where retrieval found the fact, with a quote holding it for 85 in 100 questions of %s',
    async (file) => {
      const reachable = (await readQaFile(file)).flatMap((qa) => {
        if (!('expect_any' in qa)) return [];
        const passages = retriever.retrievePassages(qa.q, 4);
        const found = passages.some(({ passage }) =>
          qa.expect_any.some((fact) => statesFact(passage.text, fact, knowledge.glossary)),
        );
        return found ? [{ qa, passages }] : [];
      });
      const misses = reachable.filter(({ qa, passages }) => {
        const answer = extractiveAnswer(qa.q, passages, detectLanguage(qa.q), knowledge);
        const firstQuote = answer.split('\n').find((line) => line.startsWith('- ')) ?? '';
        return !qa.expect_any.some((fact) => statesFact(firstQuote, fact, knowledge.glossary));
      });
      expect(reachable.length).toBeGreaterThan(30);
      expect(
        1 - misses.length / reachable.length,
        `misses: ${misses.map(({ qa }) => qa.q).join(' | ')}`,
      ).toBeGreaterThanOrEqual(0.85);
    },
  );
});
