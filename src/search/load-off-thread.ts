import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ContextStrategy, chooseContextStrategy } from '../core/context.ts';
import { ConfigError } from '../core/errors.ts';
import type { KnowledgeBase, Passage } from '../core/knowledge.ts';
import type { PassageIndex } from '../core/passage-index.ts';
import type { SentenceStatistics } from '../core/sentence-scoring.ts';
import { tokenize } from '../core/tokenize.ts';
import { resolveTopic } from '../core/topic.ts';
import { openBm25Index } from './bm25-index.ts';
import { type KnowledgeJob, nextSlice, type WorkerMessage } from './knowledge-job.ts';
import { openSentenceStatistics } from './sentence-statistics.ts';

/** A knowledge version with everything built for it. */
export interface LoadedKnowledge {
  knowledge: KnowledgeBase;
  index: PassageIndex;
  context: ContextStrategy;
  /** The offline sentence ranker's statistics, when the job `quotesSentences`. */
  sentences?: SentenceStatistics;
}

/** tsx's ESM registration API, found through its package's export map. */
function tsxApiUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8'));
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href;
}

/**
 * The worker next to this file: compiled JavaScript in `dist/`. Run from the TypeScript sources (tsx,
 * vitest), the worker must register tsx itself first: tsx's `--import` hooks apply to the main thread only.
 */
function startWorker(job: KnowledgeJob): Worker {
  if (!new URL(import.meta.url).pathname.endsWith('.ts')) {
    return new Worker(new URL('./knowledge-worker.js', import.meta.url), { workerData: job });
  }
  const entry = new URL('./knowledge-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: job });
}

/**
 * Loads `job.dir` and builds its index, context strategy and (when `job.quotesSentences`) sentence
 * statistics on a worker thread; the calling thread only receives the result, a slice of passages per turn
 * of its event loop, and the index and statistics without copying.
 * Resolves undefined when the directory still holds `job.currentVersion`. Rejects like `loadKnowledge`
 * (a `ConfigError` naming the file) for bad knowledge, and with `signal.reason` when aborted, which stops
 * the worker.
 */
export function loadKnowledgeOffThread(
  job: KnowledgeJob,
  signal?: AbortSignal,
): Promise<LoadedKnowledge | undefined> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const worker = startWorker(job);
    const passages: Passage[] = [];
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      void worker.terminate();
      outcome();
    };
    const abort = () => settle(() => reject(signal?.reason));
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      switch (message.kind) {
        case 'passages':
          for (const passage of message.passages) passages.push(passage);
          worker.postMessage(nextSlice);
          return;
        case 'unchanged':
          return settle(() => resolve(undefined));
        case 'failed':
          return settle(() =>
            reject(message.configError ? new ConfigError(message.message) : new Error(message.message)),
          );
        case 'done': {
          const { glossary, files, topic, version } = message;
          const knowledge: KnowledgeBase = {
            passages,
            glossary,
            files,
            version,
            ...(topic ? { topic } : {}),
          };
          const index = openBm25Index(message.index, tokenize);
          const context =
            message.context ??
            chooseContextStrategy(knowledge, {
              ...job.context,
              topic: resolveTopic(job.topicSetting, topic),
            });
          const sentences = message.sentences ? openSentenceStatistics(message.sentences) : undefined;
          return settle(() => resolve({ knowledge, index, context, ...(sentences ? { sentences } : {}) }));
        }
      }
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`the knowledge worker stopped (exit code ${code}) before it finished`))),
    );
  });
}
