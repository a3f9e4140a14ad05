import { describe, expect, it } from 'vitest';
import { evaluateCase, readQaFile, summarizeEvaluation } from '../../src/core/evaluate.ts';
import { loadKnowledge } from '../../src/core/knowledge.ts';
import { createBm25Retriever } from '../../src/search/bm25-retriever.ts';

const knowledge = await loadKnowledge('knowledge');
const qa = await readQaFile('test/fixtures/qa.jsonl');

describe('retrieval quality on the shipped knowledge file', () => {
  const report = summarizeEvaluation(
    qa.map((question) => evaluateCase(createBm25Retriever(knowledge), question, 4)),
    4,
  );

  it('has a QA set of at least 30 questions in English, Chinese and out of scope', () => {
    expect(qa.length).toBeGreaterThanOrEqual(30);
    expect(report.byLanguage.en?.questions).toBeGreaterThan(0);
    expect(report.byLanguage.zh?.questions).toBeGreaterThan(0);
    expect(report.outOfScope.questions).toBeGreaterThan(0);
  });

  it('recalls a relevant passage in the top 4 for at least 90% of questions, in each language', () => {
    const misses = report.results.filter((r) => !r.outOfScope && !r.passed).map((r) => r.q);
    expect(report.overall.recallAtK, `misses: ${misses.join(' | ')}`).toBeGreaterThanOrEqual(0.9);
    expect(report.byLanguage.en?.recallAtK).toBeGreaterThanOrEqual(0.9);
    expect(report.byLanguage.zh?.recallAtK).toBeGreaterThanOrEqual(0.9);
  });

  it('retrieves nothing for out-of-scope questions', () => {
    const noisy = report.results
      .filter((r) => r.outOfScope && !r.passed)
      .map((r) => `${r.q} (${r.retrieved})`);
    expect(noisy).toEqual([]);
  });

  it('needs the glossary for Chinese questions: without it Chinese recall drops', () => {
    const plain = createBm25Retriever(knowledge, { expandWithGlossary: false });
    const zh = qa.filter((question) => question.lang === 'zh' && !('out_of_scope' in question));
    const recalled = zh.filter((question) => evaluateCase(plain, question, 4).passed).length;
    expect(recalled / zh.length).toBeLessThan(report.byLanguage.zh?.recallAtK ?? 0);
  });
});
