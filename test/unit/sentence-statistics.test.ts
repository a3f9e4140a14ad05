import { describe, expect, it } from 'vitest';
import { readQaFile } from '../../src/core/evaluate.ts';
import { offlinePassagePool } from '../../src/core/offline-answer.ts';
import { retrieveWithParaphrases } from '../../src/core/paraphrases.ts';
import { countSentenceTerms, createSentenceRanker } from '../../src/core/sentence-scoring.ts';
import { createBm25Retriever } from '../../src/search/bm25-retriever.ts';
import { loadKnowledgeOffThread } from '../../src/search/load-off-thread.ts';

const job = { dir: 'knowledge', context: { mode: 'retrieve', budgetTokens: 0, topK: 4 } } as const;
const qaFiles = [
  'test/fixtures/qa.jsonl',
  'test/fixtures/qa-heldout.jsonl',
  'test/fixtures/qa-heldout-quotes.jsonl',
  'test/fixtures/qa-unseen-quotes.jsonl',
  'test/fixtures/qa-fresh-quotes.jsonl',
];

/** A reload in offline mode, as `reloadKnowledge()` starts it. */
const loaded = await loadKnowledgeOffThread({ ...job, quotesSentences: true });

describe('the sentence ranker statistics a reload counts on the knowledge worker', () => {
  // Counting them is seconds on a large knowledge: what the thread answering questions must not do when the
  // first offline answer after a reload arrives.
  it('arrive with the index when answers quote sentences, and count exactly what the main thread would', () => {
    const statistics = loaded?.sentences;
    expect(statistics).toBeDefined();
    if (!loaded || !statistics) return;
    const counts = countSentenceTerms(loaded.knowledge.passages);
    expect(statistics.sentenceCount).toBe(counts.sentenceCount);
    for (const [term, frequency] of counts.documentFrequencies) {
      expect(statistics.documentFrequency(term), term).toBe(frequency);
    }
    expect(statistics.documentFrequency('zzqx-not-in-the-knowledge')).toBe(0);
    for (const word of counts.lowercaseWords) expect(statistics.writesInLowercase(word), word).toBe(true);
    expect(statistics.writesInLowercase('zzqx')).toBe(false);
    expect(statistics.writesInLowercase('Liang')).toBe(false);
  });

  it('rank every shipped QA question’s sentences as statistics counted on the main thread do', async () => {
    if (!loaded?.sentences) throw new Error('the worker sent no sentence statistics');
    const fromWorker = createSentenceRanker(loaded.knowledge, loaded.sentences);
    const onMainThread = createSentenceRanker(loaded.knowledge);
    const retriever = createBm25Retriever(loaded.knowledge);
    const questions = (await Promise.all(qaFiles.map(readQaFile))).flat().map((qa) => qa.q);
    expect(questions.length).toBeGreaterThan(200);
    for (const question of questions) {
      const passages = retrieveWithParaphrases(retriever, question, offlinePassagePool);
      expect(fromWorker(question, passages), question).toEqual(onMainThread(question, passages));
    }
  });

  it('are not counted when a model answers', { timeout: 60_000 }, async () => {
    const withModel = await loadKnowledgeOffThread({ ...job, quotesSentences: false });
    expect(withModel?.knowledge.passages.length).toBeGreaterThan(0);
    expect(withModel?.sentences).toBeUndefined();
  });
});
