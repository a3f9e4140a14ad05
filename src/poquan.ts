import { readFileSync } from 'node:fs';
import { type Answerer, createAnswerer } from './core/answer.ts';
import type { Config } from './core/config.ts';
import { type KnowledgeBase, loadKnowledge } from './core/knowledge.ts';
import { createOpenAiLlm, type LlmClient } from './core/llm.ts';
import type { Logger } from './core/logger.ts';
import { type ConversationMemory, createConversationMemory } from './core/memory.ts';
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
  llm: LlmClient | undefined;
  answer: Answerer;
  memory: ConversationMemory;
  rateLimiter: RateLimiter;
  /** Shared key-value state (conversations, caches, platform message mappings). */
  store: Store;
  /** Atomic operations on the same store, e.g. claiming a redelivered update once. */
  atomic: AtomicStore;
  /** Resolves when the store answers; readiness checks call it. */
  pingStore(): Promise<void>;
  /** Flushes and closes the store. */
  close(): Promise<void>;
}

/** Loads knowledge, builds the index, opens the store and the model client. Throws `ConfigError` on bad setup. */
export async function createPoquan(config: Config, logger: Logger): Promise<Poquan> {
  const knowledge = await loadKnowledge(config.knowledgeDir);
  const retriever = createBm25Retriever(knowledge);
  const opened = await openStore(config.storeUrl, config.storeNamespace);
  const store = opened.kv;
  const llm = config.llm.mode === 'llm' ? createOpenAiLlm(config.llm) : undefined;
  const memory = createConversationMemory(store, config.memory);
  logger.info(
    {
      knowledgeVersion: knowledge.version,
      passages: knowledge.passages.length,
      mode: config.llm.mode,
      provider: config.llm.provider,
      model: llm?.model,
    },
    'knowledge loaded',
  );
  return {
    config,
    logger,
    knowledge: () => knowledge,
    retriever: () => retriever,
    llm,
    memory,
    store,
    atomic: opened.atomic,
    pingStore: opened.ping,
    rateLimiter: createRateLimiter(opened.atomic, config.rateLimitPerMinute),
    answer: createAnswerer({
      retriever: () => retriever,
      llm,
      memory,
      cache: store,
      cacheTtlMs: config.answerCacheTtlMs,
      topK: config.retrieval.topK,
      maxQuestionChars: config.maxQuestionChars,
      logger,
    }),
    async close() {
      await opened.close();
    },
  };
}
