import type { KnowledgeBase } from '../core/knowledge.ts';
import { createRetriever, type Retriever, type RetrieverOptions } from '../core/retriever.ts';
import { tokenize } from '../core/tokenize.ts';
import { buildBm25IndexData, openBm25Index } from './bm25-index.ts';

export interface Bm25Options extends RetrieverOptions {
  /** Tokenizer for passages and queries (default: the bilingual `tokenize`). */
  tokenizer?: (text: string) => string[];
}

/**
 * Builds the index on this thread and returns the retriever over it: for a start, the CLI and tests, where
 * nothing else waits. A reload builds off the main thread instead (`./load-off-thread.ts`).
 */
export function createBm25Retriever(knowledge: KnowledgeBase, options: Bm25Options = {}): Retriever {
  const tokenizer = options.tokenizer ?? tokenize;
  const index = openBm25Index(buildBm25IndexData(knowledge.passages, tokenizer), tokenizer);
  return createRetriever(knowledge, index, options);
}
