import { describe, expect, it } from 'vitest';
import type { QaCase } from '../../src/core/evaluate.ts';
import { loadKnowledge } from '../../src/core/knowledge.ts';
import { recommendRelevanceFloor } from '../../src/core/relevance-floor.ts';
import { createBm25Retriever } from '../../src/search/bm25-retriever.ts';

const faq = await loadKnowledge(new URL('../fixtures/knowledge-faq', import.meta.url).pathname);
const unfloored = createBm25Retriever(faq, { minScore: 0 });

function bestScore(question: string): number {
  return unfloored.retrievePassages(question, 4)[0]?.score ?? 0;
}

describe('the relevance floor eval recommends', () => {
  const cases: QaCase[] = [
    { q: 'What are your opening hours?', expect_any: ['8 am to 6 pm'] },
    { q: 'When is the open-mic evening?', expect_any: ['open-mic'] },
    { q: 'Who founded DeepSeek?', out_of_scope: true },
    { q: 'Can I book a room at the harbour hotel?', out_of_scope: true },
  ];

  it('keeps every in-scope answer and refuses every out-of-scope question when a floor can', () => {
    const floor = recommendRelevanceFloor(unfloored, cases, 4);
    expect(floor).toMatchObject({ keptInScope: 2, inScope: 2, refusedOutOfScope: 2, outOfScope: 2 });
    const recommended = floor?.recommended ?? Number.NaN;
    for (const question of ['What are your opening hours?', 'When is the open-mic evening?'])
      expect(bestScore(question)).toBeGreaterThanOrEqual(recommended);
    for (const question of ['Who founded DeepSeek?', 'Can I book a room at the harbour hotel?'])
      expect(bestScore(question)).toBeLessThan(recommended);
  });

  it('leaves out questions whose facts no passage holds, and recommends nothing without in-scope questions', () => {
    const unfindable: QaCase = { q: 'What are your opening hours?', expect_any: ['midnight'] };
    expect(recommendRelevanceFloor(unfloored, [...cases, unfindable], 4)).toMatchObject({ inScope: 2 });
    expect(recommendRelevanceFloor(unfloored, cases.slice(2), 4)).toBeUndefined();
  });
});
