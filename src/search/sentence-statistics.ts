/**
 * The offline sentence ranker's statistics (`SentenceStatistics`) in typed arrays and strings, so the
 * knowledge worker counts them alongside the index and the thread answering questions receives them without
 * copying or rebuilding anything. Counted there instead, on the first offline answer after a reload, they
 * blocked the bot about as long as building the index takes (seconds at 100,000 passages).
 */
import type { Passage } from '../core/knowledge.ts';
import { countSentenceTerms, type SentenceStatistics } from '../core/sentence-scoring.ts';
import { buildTermTable, openTermTable, type TermTableData } from './term-table.ts';

/** Everything `SentenceStatistics` answers from: transferable between threads (see `sentenceTransferablesOf`). */
export interface SentenceStatisticsData {
  sentenceCount: number;
  terms: TermTableData;
  /** Sentences holding term n of `terms`. */
  documentFrequencies: Int32Array;
  lowercaseWords: TermTableData;
}

/** Counts `passages`' sentence statistics (seconds for 100,000 passages) into transferable form. */
export function buildSentenceStatisticsData(passages: readonly Passage[]): SentenceStatisticsData {
  const { sentenceCount, documentFrequencies, lowercaseWords } = countSentenceTerms(passages);
  return {
    sentenceCount,
    terms: buildTermTable([...documentFrequencies.keys()]),
    documentFrequencies: Int32Array.from(documentFrequencies.values()),
    lowercaseWords: buildTermTable([...lowercaseWords]),
  };
}

/** The buffers `postMessage` can move instead of copying. */
export function sentenceTransferablesOf(data: SentenceStatisticsData): ArrayBuffer[] {
  const arrays = [
    data.terms.starts,
    data.terms.slots,
    data.documentFrequencies,
    data.lowercaseWords.starts,
    data.lowercaseWords.slots,
  ];
  return arrays.map((array) => array.buffer as ArrayBuffer);
}

/** The statistics over built data, answering exactly as `countSentenceTerms`' counts would; opens at once. */
export function openSentenceStatistics(data: SentenceStatisticsData): SentenceStatistics {
  const termNumber = openTermTable(data.terms);
  const lowercaseNumber = openTermTable(data.lowercaseWords);
  return {
    sentenceCount: data.sentenceCount,
    documentFrequency(term) {
      const number = termNumber(term);
      return number === -1 ? 0 : (data.documentFrequencies[number] as number);
    },
    writesInLowercase: (word) => lowercaseNumber(word) !== -1,
  };
}
