/**
 * What the main thread and the knowledge worker (`./knowledge-worker.ts`) say to each other. The passages
 * come over in slices, each sent only when the main thread asks for it, so the main thread never decodes
 * more than one slice in a turn of its event loop.
 */
import type { ContextMode } from '../core/config.ts';
import type { ContextStrategy } from '../core/context.ts';
import type { GlossaryEntry } from '../core/glossary.ts';
import type { KnowledgeFileInfo, Passage } from '../core/knowledge.ts';
import type { Topic } from '../core/topic.ts';
import type { Bm25IndexData } from './bm25-index.ts';
import type { SentenceStatisticsData } from './sentence-statistics.ts';

/** The worker's input (`workerData`). */
export interface KnowledgeJob {
  dir: string;
  context: { mode: ContextMode; budgetTokens: number; topK: number };
  /** `BOT_TOPIC`/`BOT_TOPIC_ZH` when set: it wins over the topic the knowledge declares. */
  topicSetting?: Topic;
  /** The version already live: when the directory still holds it, nothing is built. */
  currentVersion?: string;
  /** No model configured: answers quote sentences, so the sentence ranker's statistics are built too. */
  quotesSentences?: boolean;
}

/** Passages per message: decoding 2,000 takes a few milliseconds. */
export const passagesPerSlice = 2000;

export type WorkerMessage =
  | { kind: 'passages'; passages: Passage[] }
  | {
      kind: 'done';
      glossary: GlossaryEntry[];
      files: KnowledgeFileInfo[];
      topic?: Topic;
      version: string;
      index: Bm25IndexData;
      /** When the job `quotesSentences`. */
      sentences?: SentenceStatisticsData;
      /** Absent in full mode, whose strategy refers to the passages themselves and is rebuilt on arrival. */
      context?: ContextStrategy;
    }
  | { kind: 'unchanged' }
  | { kind: 'failed'; message: string; configError: boolean };

/** The main thread's only message: send the next slice. */
export const nextSlice = 'next';
