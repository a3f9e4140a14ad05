/**
 * Worker thread: loads a knowledge directory, builds its index (and, offline, the sentence ranker's
 * statistics) and chooses its context strategy — the seconds of work a large knowledge reload takes — so the
 * thread answering questions is never blocked.
 * Protocol in `./knowledge-job.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chooseContextStrategy } from '../core/context.ts';
import { ConfigError } from '../core/errors.ts';
import { loadKnowledge } from '../core/knowledge.ts';
import { tokenize } from '../core/tokenize.ts';
import { resolveTopic } from '../core/topic.ts';
import { buildBm25IndexData, transferablesOf } from './bm25-index.ts';
import { type KnowledgeJob, nextSlice, passagesPerSlice, type WorkerMessage } from './knowledge-job.ts';
import { buildSentenceStatisticsData, sentenceTransferablesOf } from './sentence-statistics.ts';

const port = parentPort;
if (!port) throw new Error('knowledge-worker.ts runs only as a worker thread');
const job = workerData as KnowledgeJob;
const send = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

try {
  const knowledge = await loadKnowledge(job.dir);
  if (knowledge.version === job.currentVersion) {
    send({ kind: 'unchanged' });
    port.close();
  } else {
    const index = buildBm25IndexData(knowledge.passages, tokenize);
    const sentences = job.quotesSentences ? buildSentenceStatisticsData(knowledge.passages) : undefined;
    const topic = resolveTopic(job.topicSetting, knowledge.topic);
    const context = chooseContextStrategy(knowledge, { ...job.context, topic });
    let sent = 0;
    const sendNext = () => {
      if (sent < knowledge.passages.length) {
        send({ kind: 'passages', passages: knowledge.passages.slice(sent, sent + passagesPerSlice) });
        sent += passagesPerSlice;
        return;
      }
      const { glossary, files, version } = knowledge;
      const done = {
        kind: 'done',
        glossary,
        files,
        topic: knowledge.topic,
        version,
        index,
        ...(sentences ? { sentences } : {}),
      } as const;
      const transfer = [...transferablesOf(index), ...(sentences ? sentenceTransferablesOf(sentences) : [])];
      send(context.mode === 'full' ? done : { ...done, context }, transfer);
      port.close();
    };
    port.on('message', (message) => {
      if (message === nextSlice) sendNext();
    });
    sendNext();
  }
} catch (error) {
  send({ kind: 'failed', message: (error as Error).message, configError: error instanceof ConfigError });
  port.close();
}
