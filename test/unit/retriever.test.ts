import { describe, expect, it } from 'vitest';
import { loadKnowledge, parseKnowledgeFile } from '../../src/core/knowledge.ts';
import { createBm25Retriever } from '../../src/search/bm25-retriever.ts';

const miniDir = new URL('../fixtures/knowledge-mini', import.meta.url).pathname;

function knowledgeFrom(markdown: string) {
  const parsed = parseKnowledgeFile('k.md', markdown);
  return { passages: parsed.passages, glossary: parsed.glossary, files: [parsed.info], version: 'test' };
}

describe('BM25 retriever', () => {
  it('ranks the passage that answers the question first', async () => {
    const retriever = createBm25Retriever(await loadKnowledge(miniDir), { minScore: 0 });
    const [first] = retriever.retrievePassages('How much did government venture capital funds invest?', 4);
    expect(first?.passage.id).toBe('mini#state-funding-1');
  });

  it('finds English passages for a Chinese question through the glossary', async () => {
    const retriever = createBm25Retriever(await loadKnowledge(miniDir), { minScore: 1 });
    const passages = retriever.retrievePassages('梁文锋创立了什么？', 4);
    expect(passages[0]?.passage.text).toContain('Liang Wenfeng');
  });

  it('finds nothing for the same Chinese question without glossary expansion', async () => {
    const retriever = createBm25Retriever(await loadKnowledge(miniDir), {
      expandWithGlossary: false,
      minScore: 1,
    });
    expect(retriever.retrievePassages('梁文锋创立了什么？', 4)).toEqual([]);
  });

  it('returns nothing for a question no passage is about', async () => {
    const retriever = createBm25Retriever(await loadKnowledge(miniDir));
    expect(retriever.retrievePassages('What will the weather be in Paris tomorrow?', 4)).toEqual([]);
  });

  it('drops weak matches below the score floor', () => {
    const knowledge = knowledgeFrom(
      '## Chips\n\nDeepSeek trained models without the most advanced chips.\n\n## Poetry\n\nUsers asked the chatbot for poetry during the holiday.\n',
    );
    const strict = createBm25Retriever(knowledge, { minScore: 1000 });
    expect(strict.retrievePassages('poetry chips', 4)).toEqual([]);
    const lenient = createBm25Retriever(knowledge, { minScore: 0, minShareOfBest: 0 });
    expect(lenient.retrievePassages('poetry chips', 4)).toHaveLength(2);
  });

  it('returns at most k passages, best first, and reports the knowledge version', () => {
    const knowledge = knowledgeFrom(
      Array.from(
        { length: 8 },
        (_, i) => `## Part ${i}\n\nDeepSeek fact number ${i}${' DeepSeek'.repeat(i)}.`,
      ).join('\n\n'),
    );
    const retriever = createBm25Retriever(knowledge, { minScore: 0, minShareOfBest: 0 });
    const passages = retriever.retrievePassages('DeepSeek', 3);
    expect(passages).toHaveLength(3);
    expect(passages[0]?.score).toBeGreaterThanOrEqual(passages[1]?.score ?? 0);
    expect(retriever.knowledgeVersion).toBe('test');
  });
});

describe('BM25 retriever on the shipped knowledge: focus and known terms', async () => {
  const retriever = createBm25Retriever(await loadKnowledge('knowledge'));

  it('keeps a follow-up on the name it refers to: only passages naming Zhipu AI, none on DeepSeek’s founder', () => {
    const plain = retriever.retrievePassages('What is Zhipu AI? And who founded it?', 4);
    expect(plain.some(({ passage }) => !passage.text.includes('Zhipu'))).toBe(true);
    const focused = retriever.retrievePassages('What is Zhipu AI? And who founded it?', 4, {
      focus: ['And who founded it?', 'What is Zhipu AI?'],
    });
    expect(focused.length).toBeGreaterThan(0);
    expect(focused.every(({ passage }) => passage.text.includes('Zhipu AI'))).toBe(true);
  });

  it('ignores a focus on what nearly every passage names', () => {
    const query = 'Who founded DeepSeek? Where did his money come from?';
    expect(retriever.retrievePassages(query, 4, { focus: ['Who founded DeepSeek?'] })).toEqual(
      retriever.retrievePassages(query, 4),
    );
  });

  it('counts which of a question’s terms the knowledge knows, glossary translations included', () => {
    expect(retriever.countKnownTerms?.('What about the weather there?')).toEqual({ terms: 1, known: 0 });
    expect(retriever.countKnownTerms?.('梁文锋').known).toBeGreaterThan(0);
  });

  it('finds paraphrased facts through the glossary: the 2030 goal and self-funding', () => {
    const texts = (query: string) => retriever.retrievePassages(query, 4).map(({ passage }) => passage.text);
    expect(texts('By what year does China aim to lead the world in AI?').join(' ')).toContain('by 2030');
    expect(texts('中国希望在哪一年成为全球人工智能领导者？').join(' ')).toContain('by 2030');
    expect(texts('Was DeepSeek funded by the state or by big tech?').join(' ')).toContain('self-funded');
  });
});
