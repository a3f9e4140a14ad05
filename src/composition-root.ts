import { existsSync, type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type AccessPolicy, createAccessPolicy } from './core/access.ts';
import { createAnswerer } from './core/answer.ts';
import { type Budgets, createBudgets } from './core/budget.ts';
import type { Config } from './core/config.ts';
import { type ContextStrategy, chooseContextStrategy } from './core/context.ts';
import { resolvePrices } from './core/cost.ts';
import { createFeedbackStore, type FeedbackStore } from './core/feedback.ts';
import { type KnowledgeBase, loadKnowledge } from './core/knowledge.ts';
import type { LlmClient } from './core/llm.ts';
import type { Logger } from './core/logger.ts';
import { type ConversationMemory, createConversationMemory } from './core/memory.ts';
import { type MeteredAnswerer, meterAnswers } from './core/metering.ts';
import type { PriceTable } from './core/providers.ts';
import { createRateLimiter, type RateLimiter } from './core/rate-limit.ts';
import { createRetriever, type Retriever } from './core/retriever.ts';
import { createSentenceRanker, type SentenceRanker } from './core/sentence-scoring.ts';
import type { Store } from './core/store.ts';
import { resolveTopic, type Topic } from './core/topic.ts';
import { type Asker, createAsker } from './core/turn.ts';
import type { WorkQueue, WorkQueueOptions } from './core/work-queue.ts';
import { createMetrics, type PrometheusMetrics } from './metrics/prometheus-metrics.ts';
import { createBm25Retriever } from './search/bm25-retriever.ts';
import { loadKnowledgeOffThread } from './search/load-off-thread.ts';
import { openStore } from './store/open-store.ts';
import type { OpenedStore } from './store/opened-store.ts';
import { StoreOpenError } from './store/store-open-error.ts';

/**
 * The assembled core, built by the composition root (`createPoquan`) and nowhere else: the only place concrete
 * stores, clients and indexes are constructed. Entry points (`src/main.ts`, `src/start-bots.ts`) and tests hold
 * it; adapters and commands receive it through the narrow interfaces they declare (`CommandServices`,
 * `TelegramServices`, `DiscordServices`, the HTTP server's `services`), so each one's dependencies show in its
 * signature.
 */
export interface Poquan {
  config: Config;
  logger: Logger;
  knowledge(): KnowledgeBase;
  retriever(): Retriever;
  /** Full-context or retrieve mode for the current knowledge version, and why. */
  context(): ContextStrategy;
  /** What the bot answers questions about: `BOT_TOPIC`, else the knowledge's front matter, else the default. */
  topic(): Topic;
  llm: LlmClient | undefined;
  /**
   * One user turn, as every platform runs it: limits checked, the answer streamed, recorded for feedback. Adapters
   * reach it through the `ask` command; tools that measure answers alone (eval, bench) call `answer`.
   */
  ask: Asker;
  /** Answers a question without limits or feedback; pass `userKey` so the answer counts against the budget. */
  answer: MeteredAnswerer;
  memory: ConversationMemory;
  rateLimiter: RateLimiter;
  /** Daily token budgets per user and for the bot, shared by every instance on the store. */
  budgets: Budgets;
  /** The prices answers are charged at; undefined when unknown (costs are then not shown). */
  prices: PriceTable | undefined;
  /** Allowlists and operator rights, decided once for every adapter. */
  access: AccessPolicy;
  /** Shared state (conversations, caches, platform message mappings, claims and counters). */
  store: Store;
  /** A durable work queue in the same store, shared by every instance (webhook updates wait there). */
  openQueue(name: string, options: WorkQueueOptions): WorkQueue;
  /** Delivered answers and their 👍/👎 votes, for `poquan feedback report`. */
  feedback: FeedbackStore;
  /** Resolves when the store answers; readiness checks call it. */
  pingStore(): Promise<void>;
  /** The Prometheus registry and counters; with `countMetrics: false`, made (empty) on first read. */
  metrics: PrometheusMetrics;
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

/** How an entry point wants its Poquan assembled. */
export interface PoquanOptions {
  /**
   * Count answers and votes in `metrics` (default true). One-shot CLI commands pass false: they serve no
   * /metrics, and prom-client then loads only if something reads `poquan.metrics`.
   */
  countMetrics?: boolean;
}

const reloadDebounceMs = 300;
const folderPollMs = 1000;

/** Names, sizes and modification times of the folder's files: equal twice in a row means no write is under way. */
async function snapshotOf(dir: string): Promise<string> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const files = await Promise.all(
      entries
        .filter((entry) => entry.isFile())
        .map(async (entry) => {
          const info = await stat(join(dir, entry.name)).catch(() => undefined);
          return `${entry.name}:${info?.size}:${info?.mtimeMs}`;
        }),
    );
    return files.sort().join('|');
  } catch {
    return 'missing';
  }
}

interface IndexedKnowledge {
  knowledge: KnowledgeBase;
  retriever: Retriever;
  context: ContextStrategy;
  topic: Topic;
  /** Offline, after a reload: built from statistics the knowledge worker counted. */
  sentenceRanker?: SentenceRanker;
}

/** The settings the context strategy is chosen with. */
function contextSettings(config: Config) {
  return { ...config.context, topK: config.retrieval.topK };
}

/**
 * Everything built once per knowledge version; swapped as one object on reload. Built on this thread at
 * start, when nothing is answering yet and a small file is ready soonest.
 */
async function indexKnowledge(config: Config): Promise<IndexedKnowledge> {
  const knowledge = await loadKnowledge(config.knowledgeDir);
  const topic = resolveTopic(config.topic, knowledge.topic);
  return {
    knowledge,
    retriever: createBm25Retriever(knowledge, { minScore: config.retrieval.relevanceFloor }),
    context: chooseContextStrategy(knowledge, { ...contextSettings(config), topic }),
    topic,
  };
}

/**
 * Opens `STORE_URL`. A SQLite file that cannot be used, or a Redis that refuses its credentials, fails the start
 * with one line naming the setting, unless
 * the operator chose `STORE_FALLBACK=memory`: then Poquan runs on memory, and says so in a warning.
 */
async function openConfiguredStore(config: Config, logger: Logger): Promise<OpenedStore> {
  try {
    return await openStore(config.storeUrl, config.storeNamespace);
  } catch (error) {
    if (!(error instanceof StoreOpenError) || config.storeFallback !== 'memory') throw error;
    logger.warn(
      { reason: (error.cause as Error).message },
      'STORE_FALLBACK=memory: the store could not be opened; running without persistent memory',
    );
    return openStore('memory://', config.storeNamespace);
  }
}

/** Loads knowledge, builds the index, opens the store and the model client. Throws `ConfigError` on bad setup. */
export async function createPoquan(
  config: Config,
  logger: Logger,
  options: PoquanOptions = {},
): Promise<Poquan> {
  let current = await indexKnowledge(config);
  const watchers = new Set<FSWatcher>();
  /** Stops a reload's worker when Poquan closes. */
  const closing = new AbortController();
  let reloadsStarted = 0;
  /** The reload whose knowledge is live: one started earlier that finishes later must not replace it. */
  let liveReload = 0;
  const opened = await openConfiguredStore(config, logger);
  const store: Store = opened;
  // The OpenAI client loads only when a model is configured: an offline `poquan ask` starts without it.
  const llm =
    config.llm.mode === 'llm'
      ? (await import('./llm/openai-client.ts')).createOpenAiLlm(config.llm)
      : undefined;
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
  let counting = options.countMetrics === false ? undefined : createMetrics();
  const access = createAccessPolicy(config);
  const prices = resolvePrices(config.llm, config.prices);
  const budgets = createBudgets({
    atomic: store,
    settings: config.budget,
    isAdmin: (userKey) => access.isAdmin(userKey),
  });

  /** Builds off the main thread, so answers go on from the current version until the swap. */
  async function reloadKnowledge() {
    const started = ++reloadsStarted;
    const next = await loadKnowledgeOffThread(
      {
        dir: config.knowledgeDir,
        context: contextSettings(config),
        ...(config.topic ? { topicSetting: config.topic } : {}),
        currentVersion: current.knowledge.version,
        quotesSentences: config.llm.mode === 'offline',
      },
      closing.signal,
    );
    if (!next || next.knowledge.version === current.knowledge.version || started < liveReload) {
      return { changed: false, version: current.knowledge.version };
    }
    liveReload = started;
    current = {
      knowledge: next.knowledge,
      retriever: createRetriever(next.knowledge, next.index, { minScore: config.retrieval.relevanceFloor }),
      context: next.context,
      topic: resolveTopic(config.topic, next.knowledge.topic),
      ...(next.sentences ? { sentenceRanker: createSentenceRanker(next.knowledge, next.sentences) } : {}),
    };
    logger.info(
      { knowledgeVersion: current.knowledge.version, passages: current.knowledge.passages.length },
      'knowledge reloaded',
    );
    return { changed: true, version: current.knowledge.version };
  }

  /**
   * Reloads once the folder has been quiet and its files unchanged for a moment, so a slow, non-atomic rewrite
   * never goes live half-written. When the folder itself disappears (deleted, or replaced by a deploy), it is
   * looked for every second and watched again once it is back.
   */
  function watchKnowledge() {
    let timer: NodeJS.Timeout | undefined;
    let watcher: FSWatcher | undefined;
    let lookingForFolder: NodeJS.Timeout | undefined;
    let lastSnapshot = '';
    const reloadWhenStable = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const snapshot = await snapshotOf(config.knowledgeDir);
        if (snapshot !== lastSnapshot) {
          lastSnapshot = snapshot;
          return reloadWhenStable();
        }
        reloadKnowledge().catch((error: unknown) =>
          logger.error(
            { err: error, knowledgeVersion: current.knowledge.version },
            'knowledge reload failed; keeping the current version',
          ),
        );
      }, reloadDebounceMs);
    };
    const arm = () => {
      try {
        watcher = watch(config.knowledgeDir, () => {
          if (!existsSync(config.knowledgeDir)) return lookForFolder();
          lastSnapshot = '';
          reloadWhenStable();
        });
      } catch {
        return lookForFolder();
      }
      watcher.on('error', () => lookForFolder());
      watchers.add(watcher);
    };
    const lookForFolder = () => {
      if (watcher) {
        watcher.close();
        watchers.delete(watcher);
        watcher = undefined;
      }
      if (lookingForFolder) return;
      logger.warn(
        { dir: config.knowledgeDir },
        'KNOWLEDGE_DIR is gone; keeping the current version until it is back',
      );
      lookingForFolder = setInterval(() => {
        if (!existsSync(config.knowledgeDir)) return;
        clearInterval(lookingForFolder);
        lookingForFolder = undefined;
        arm();
        reloadWhenStable();
      }, folderPollMs);
      lookingForFolder.unref();
    };
    arm();
    return () => {
      clearTimeout(timer);
      clearInterval(lookingForFolder);
      lookingForFolder = undefined;
      if (watcher) {
        watcher.close();
        watchers.delete(watcher);
      }
    };
  }

  const feedback = createFeedbackStore({
    store,
    retentionMs: config.feedback.retentionMs,
    provider: llm?.provider,
    votes: counting?.votes,
  });
  const rateLimiter = createRateLimiter(store, config.rateLimitPerMinute);
  const answer = meterAnswers(
    createAnswerer({
      retriever: () => current.retriever,
      knowledge: () => current.knowledge,
      sentenceRanker: () => current.sentenceRanker,
      context: () => current.context,
      topic: () => current.topic,
      followUpRewriteTimeoutMs: config.followUpRewriteTimeoutMs,
      llm,
      memory,
      cache: store,
      cacheTtlMs: config.answerCacheTtlMs,
      topK: config.retrieval.topK,
      maxQuestionChars: config.maxQuestionChars,
      logger,
      metrics: counting,
    }),
    { budgets, prices, logger, metrics: counting },
  );

  return {
    config,
    logger,
    get metrics() {
      counting ??= createMetrics();
      return counting;
    },
    reloadKnowledge,
    watchKnowledge,
    knowledge: () => current.knowledge,
    retriever: () => current.retriever,
    context: () => current.context,
    topic: () => current.topic,
    llm,
    memory,
    store,
    openQueue: opened.openQueue,
    feedback,
    pingStore: opened.ping,
    rateLimiter,
    budgets,
    prices,
    access,
    answer,
    ask: createAsker({ answer, budgets, rateLimiter, feedback, logger, metrics: counting }),
    async close() {
      closing.abort(new Error('Poquan closed during a knowledge reload'));
      for (const watcher of watchers) watcher.close();
      await opened.close();
    },
  };
}
