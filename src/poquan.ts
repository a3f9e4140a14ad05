import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { type AccessPolicy, createAccessPolicy } from './core/access.ts';
import { type Answerer, createAnswerer } from './core/answer.ts';
import type { Config } from './core/config.ts';
import { type ContextStrategy, chooseContextStrategy } from './core/context.ts';
import { createFeedbackStore, type FeedbackStore } from './core/feedback.ts';
import { type KnowledgeBase, loadKnowledge } from './core/knowledge.ts';
import { createOpenAiLlm, type LlmClient } from './core/llm.ts';
import type { Logger } from './core/logger.ts';
import { type ConversationMemory, createConversationMemory } from './core/memory.ts';
import { createMetrics, type Metrics } from './core/metrics.ts';
import { createRateLimiter, type RateLimiter } from './core/rate-limit.ts';
import { createBm25Retriever, type Retriever } from './core/retriever.ts';
import { type AtomicStore, openStore, type Store } from './core/store.ts';

/** Poquan's own version, shown by `/about` and `--version`. */
export const poquanVersion: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/**
 * The assembled core every entry point (CLI, bot process, tests) works with. Built only here, so the
 * rest of the code receives ports, never constructs concrete stores or clients itself.
 */
export interface Poquan {
  config: Config;
  logger: Logger;
  knowledge(): KnowledgeBase;
  retriever(): Retriever;
  /** Full-context or retrieve mode for the current knowledge version, and why. */
  context(): ContextStrategy;
  llm: LlmClient | undefined;
  answer: Answerer;
  memory: ConversationMemory;
  rateLimiter: RateLimiter;
  /** Allowlists and operator rights, decided once for every adapter. */
  access: AccessPolicy;
  /** Shared key-value state (conversations, caches, platform message mappings). */
  store: Store;
  /** Atomic operations on the same store, e.g. claiming a redelivered update once. */
  atomic: AtomicStore;
  /** Delivered answers and their 👍/👎 votes, for `poquan feedback report`. */
  feedback: FeedbackStore;
  /** Resolves when the store answers; readiness checks call it. */
  pingStore(): Promise<void>;
  metrics: Metrics;
  /**
   * Reloads the knowledge directory and swaps knowledge and index together, so an answer in flight keeps
   * the version it started with. A broken file throws and leaves the current knowledge in place.
   */
  reloadKnowledge(): Promise<{ changed: boolean; version: string }>;
  /** Reloads on every change under KNOWLEDGE_DIR (debounced); returns a function that stops watching. */
  watchKnowledge(): () => void;
  /** Stops watching, flushes and closes the store. */
  close(): Promise<void>;
}

const reloadDebounceMs = 300;

interface IndexedKnowledge {
  knowledge: KnowledgeBase;
  retriever: Retriever;
  context: ContextStrategy;
}

/** Everything built once per knowledge version; swapped as one object on reload. */
async function indexKnowledge(config: Config): Promise<IndexedKnowledge> {
  const knowledge = await loadKnowledge(config.knowledgeDir);
  return {
    knowledge,
    retriever: createBm25Retriever(knowledge),
    context: chooseContextStrategy(knowledge, { ...config.context, topK: config.retrieval.topK }),
  };
}

/** Loads knowledge, builds the index, opens the store and the model client. Throws `ConfigError` on bad setup. */
export async function createPoquan(config: Config, logger: Logger): Promise<Poquan> {
  let current = await indexKnowledge(config);
  const watchers = new Set<FSWatcher>();
  const opened = await openStore(config.storeUrl, config.storeNamespace);
  const store = opened.kv;
  const llm = config.llm.mode === 'llm' ? createOpenAiLlm(config.llm) : undefined;
  const memory = createConversationMemory(store, config.memory);
  logger.info(
    {
      knowledgeVersion: current.knowledge.version,
      passages: current.knowledge.passages.length,
      context: current.context.mode,
      mode: config.llm.mode,
      provider: config.llm.provider,
      model: llm?.model,
    },
    'knowledge loaded',
  );
  const metrics = createMetrics();

  async function reloadKnowledge() {
    const next = await indexKnowledge(config);
    if (next.knowledge.version === current.knowledge.version) {
      return { changed: false, version: current.knowledge.version };
    }
    current = next;
    logger.info(
      { knowledgeVersion: next.knowledge.version, passages: next.knowledge.passages.length },
      'knowledge reloaded',
    );
    return { changed: true, version: next.knowledge.version };
  }

  function watchKnowledge() {
    let timer: NodeJS.Timeout | undefined;
    const watcher = watch(config.knowledgeDir, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        reloadKnowledge().catch((error: unknown) =>
          logger.error(
            { err: error, knowledgeVersion: current.knowledge.version },
            'knowledge reload failed; keeping the current version',
          ),
        );
      }, reloadDebounceMs);
    });
    watchers.add(watcher);
    return () => {
      clearTimeout(timer);
      watcher.close();
      watchers.delete(watcher);
    };
  }

  return {
    config,
    logger,
    metrics,
    reloadKnowledge,
    watchKnowledge,
    knowledge: () => current.knowledge,
    retriever: () => current.retriever,
    context: () => current.context,
    llm,
    memory,
    store,
    atomic: opened.atomic,
    feedback: createFeedbackStore({
      kv: store,
      atomic: opened.atomic,
      retentionMs: config.feedback.retentionMs,
      provider: llm?.provider,
      votes: metrics.votes,
    }),
    pingStore: opened.ping,
    rateLimiter: createRateLimiter(opened.atomic, config.rateLimitPerMinute),
    access: createAccessPolicy(config),
    answer: createAnswerer({
      retriever: () => current.retriever,
      context: () => current.context,
      followUpRewriteTimeoutMs: config.followUpRewriteTimeoutMs,
      llm,
      memory,
      cache: store,
      cacheTtlMs: config.answerCacheTtlMs,
      topK: config.retrieval.topK,
      maxQuestionChars: config.maxQuestionChars,
      logger,
      metrics,
    }),
    async close() {
      for (const watcher of watchers) watcher.close();
      await opened.close();
    },
  };
}
