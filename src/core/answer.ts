import { createHash, randomBytes } from 'node:crypto';
import type { AnswerDone, AnswerEvent, Citation, Grounding, Usage } from './answer-events.ts';
import { catalogFor } from './catalog/catalog.ts';
import { collectCitations } from './citations.ts';
import type { AnswerMode } from './config.ts';
import type { ContextStrategy } from './context.ts';
import { LlmError } from './errors.ts';
import { findUngroundedFigures } from './figures.ts';
import { followUpCue, rewriteFollowUp, searchQueryOf } from './follow-up.ts';
import type { KnowledgeBase } from './knowledge.ts';
import { asksAboutNow, asksAfterKnowledge, knowledgeDateNote } from './knowledge-date.ts';
import type { LlmClient } from './llm.ts';
import type { Logger } from './logger.ts';
import type { ConversationMemory, Turn } from './memory.ts';
import type { Metrics } from './metrics.ts';
import { extractiveAnswer, notCoveredAnswer, offlinePassagePool } from './offline-answer.ts';
import { retrieveWithParaphrases } from './paraphrases.ts';
import { buildPrompt } from './prompt.ts';
import { cleanQuestion, detectLanguage, type ReplyLanguage } from './question.ts';
import type { Retriever, ScoredPassage } from './retriever.ts';
import type { SentenceRanker } from './sentence-scoring.ts';
import { type Store, withStore } from './store.ts';
import { storeKeys } from './store-keys.ts';
import type { Topic } from './topic.ts';

/** What `answer()` needs; built once by the composition root. `retriever` is a getter so hot reload can swap it. */
export interface AnswerDeps {
  retriever: () => Retriever;
  /**
   * The knowledge `retriever()` was built from: offline quotes weigh terms over all of it and expand Chinese
   * questions with its glossary. Absent: over the passages retrieved, without glossary.
   */
  knowledge?: () => KnowledgeBase;
  /**
   * The offline sentence ranker of `knowledge()`, when it was built with the version (a reload builds its
   * statistics off the main thread); absent or undefined: built from `knowledge()` on its first offline answer.
   */
  sentenceRanker?: () => SentenceRanker | undefined;
  /**
   * Full or retrieve mode and the knowledge's date, for the same knowledge version as `retriever()`; absent
   * means retrieve mode with no date.
   */
  context?: () => ContextStrategy;
  /** What the bot answers questions about, for the rules and the "not covered" reply; absent: the default. */
  topic?: () => Topic;
  /** A follow-up's search query is rewritten by the model within this time; 0 or absent: lexically only. */
  followUpRewriteTimeoutMs?: number;
  /** Absent in offline mode. */
  llm: LlmClient | undefined;
  memory: ConversationMemory;
  /** Answer cache; absent disables caching. */
  cache: Store | undefined;
  cacheTtlMs: number;
  topK: number;
  maxQuestionChars: number;
  logger: Logger;
  /** Absent in tools that don't serve metrics (the CLI). */
  metrics?: Metrics;
}

/** Options for one answer. */
export interface AnswerOptions {
  /** Aborting ends the stream early; the partial answer is kept and marked incomplete. */
  signal?: AbortSignal;
  /** Where the question came from, for metrics (`telegram`, `discord`, `cli`). */
  platform?: string;
}

/** The core use case: a question in, a stream of answer events out. */
export type Answerer = (
  question: string,
  conversationId: string,
  options?: AnswerOptions,
) => AsyncGenerator<AnswerEvent>;

interface CachedAnswer {
  answer: string;
  citations: Citation[];
  notCovered: boolean;
}

/**
 * The passages given, as ids in citation order, and the answer's figures that none of them holds. A
 * "not covered" reply rests on no passage, and its fixed wording ("six little tigers") claims no figure.
 */
function checkGrounding(done: AnswerDone, passages: ScoredPassage[]): Grounding {
  if (done.notCovered) return { passageIds: [], ungroundedFigures: [] };
  return {
    passageIds: passages.map(({ passage }) => passage.id),
    ungroundedFigures: findUngroundedFigures(
      done.answer,
      passages.map(({ passage }) => passage.text),
    ),
  };
}

/** The "not covered" reply; for a question about now or a later year it also says how far the knowledge runs. */
function notCoveredReply(
  question: string,
  language: ReplyLanguage,
  context: ContextStrategy | undefined,
  afterKnowledge: boolean,
  topic: Topic | undefined,
): string {
  const text = notCoveredAnswer(language, topic);
  const date = context?.timeline.date;
  if (!date || !(afterKnowledge || asksAboutNow(question))) return text;
  return catalogFor(language).answers.joinSentences(text, knowledgeDateNote(date, language));
}

/**
 * True when every word a continuation adds ("what about the weather there?") is unknown to the knowledge:
 * it changes the topic to something the knowledge doesn't cover, whatever the earlier question was.
 */
function addsOnlyUnknownTerms(retriever: Retriever, question: string): boolean {
  const counted = retriever.countKnownTerms?.(question);
  return counted !== undefined && counted.terms > 0 && counted.known === 0;
}

function normalizeForCache(question: string): string {
  return question
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\s?？!！.。]+$/u, '');
}

/**
 * Creates `answer(question, conversationId)`: validates the question, retrieves passages, asks the model
 * (or quotes passages offline), and remembers the turn. Yields reasoning and text deltas, then one `done`.
 * Throws `InputError` for a bad question and `LlmError` when the model fails before any text; a failure
 * after text ends with `done.incomplete`. A store failure never stops an answer: it is logged and the
 * answer continues without memory.
 */
export function createAnswerer(deps: AnswerDeps): Answerer {
  const mode: AnswerMode = deps.llm ? 'llm' : 'offline';
  const model = deps.llm?.model;

  async function loadHistory(conversationId: string): Promise<Turn[]> {
    try {
      return await deps.memory.load(conversationId);
    } catch (error) {
      deps.logger.warn({ err: error, conversationId }, 'memory unavailable; answering without history');
      return [];
    }
  }

  async function remember(conversationId: string, turn: Turn): Promise<void> {
    try {
      await deps.memory.append(conversationId, turn);
    } catch (error) {
      deps.logger.warn({ err: error, conversationId }, 'memory unavailable; turn not remembered');
    }
  }

  async function readCache(key: string): Promise<CachedAnswer | undefined> {
    try {
      return await withStore('read', async () => deps.cache?.get<CachedAnswer>(key));
    } catch (error) {
      deps.logger.warn({ err: error }, 'answer cache unavailable');
      return undefined;
    }
  }

  async function writeCache(key: string, value: CachedAnswer): Promise<void> {
    try {
      await withStore('write', async () => deps.cache?.set(key, value, deps.cacheTtlMs));
    } catch (error) {
      deps.logger.warn({ err: error }, 'answer cache unavailable');
    }
  }

  async function* produce(
    rawQuestion: string,
    conversationId: string,
    options: AnswerOptions,
  ): AsyncGenerator<AnswerEvent> {
    const started = performance.now();
    const elapsedMs = () => Math.round(performance.now() - started);
    const question = cleanQuestion(rawQuestion, deps.maxQuestionChars);
    const language = detectLanguage(question);
    const retriever = deps.retriever();
    const context = deps.context?.();
    const fullContext = context?.mode === 'full' ? context : undefined;
    const knowledgeVersion = retriever.knowledgeVersion;
    const history = await loadHistory(conversationId);
    // 96 random bits as 16 URL-safe characters: adapters carry the id in their vote buttons' payloads.
    const answerId = randomBytes(12).toString('base64url');
    const base = { answerId, mode, model, knowledgeVersion, incomplete: false, cached: false } as const;

    const cacheKey =
      history.length === 0 && deps.cache && deps.cacheTtlMs > 0
        ? storeKeys.answerCache(
            createHash('sha256')
              .update(
                `${normalizeForCache(question)}\0${knowledgeVersion}\0${mode}\0${model ?? ''}\0${deps.llm?.baseUrl ?? ''}\0${context?.mode ?? 'retrieve'}`,
              )
              .digest('hex'),
          )
        : undefined;
    const cached = cacheKey ? await readCache(cacheKey) : undefined;
    if (cached) {
      yield { type: 'text', delta: cached.answer };
      await remember(conversationId, {
        question,
        answer: cached.answer,
        citations: cached.citations,
        knowledgeVersion,
        at: Date.now(),
      });
      yield { ...base, type: 'done', ...cached, usage: undefined, cached: true, latencyMs: elapsedMs() };
      return;
    }

    // Only a question that leans on the conversation ("and who founded it?") searches with it; any other
    // is a first question, so a change of topic searches the new topic and an unrelated one is not covered.
    const previous = history.at(-1);
    const cue = previous ? followUpCue(question) : undefined;
    let query = question;
    let focus: string[] | undefined;
    if (previous && cue) {
      const timeoutMs = deps.followUpRewriteTimeoutMs ?? 0;
      const rewritten =
        deps.llm && timeoutMs > 0
          ? await rewriteFollowUp(deps.llm, history, question, {
              timeoutMs,
              topic: deps.topic?.(),
              ...(options.signal ? { signal: options.signal } : {}),
            })
          : undefined;
      query = rewritten ?? `${searchQueryOf(previous)} ${question}`;
      // The follow-up's own names first ("and Baidu?"), else what the earlier question named ("…it?").
      focus = [question, rewritten ?? searchQueryOf(previous)];
    }

    const retrievalStarted = performance.now();
    const k = deps.llm ? deps.topK : Math.max(deps.topK, offlinePassagePool);
    let passages: ScoredPassage[] = retrieveWithParaphrases(retriever, query, k, focus ? { focus } : {});
    if (cue === 'continuation' && addsOnlyUnknownTerms(retriever, question)) passages = [];
    const afterKnowledge = context ? asksAfterKnowledge(question, context.timeline) : false;
    if (afterKnowledge) passages = [];
    deps.metrics?.retrievalSeconds.observe((performance.now() - retrievalStarted) / 1000);
    const notCovered = passages.length === 0;

    let done: AnswerDone;
    // The passages the answer could rest on: what was retrieved, or in full context every passage the model saw.
    let given: ScoredPassage[] = passages;
    if (!deps.llm || notCovered) {
      const text = notCovered
        ? notCoveredReply(question, language, context, afterKnowledge, deps.topic?.())
        : extractiveAnswer(question, passages, language, deps.knowledge?.(), deps.sentenceRanker?.());
      yield { type: 'text', delta: text };
      done = {
        ...base,
        type: 'done',
        answer: text,
        citations: notCovered ? [] : collectCitations(text, passages),
        notCovered,
        usage: undefined,
        latencyMs: elapsedMs(),
      };
    } else {
      let text = '';
      let usage: Usage | undefined;
      let failure: LlmError | undefined;
      // Full context: every passage in the prebuilt system message, retrieval's best named in the question.
      const relevant = fullContext
        ? passages.flatMap(({ passage }) => fullContext.numberOf.get(passage.id) ?? [])
        : [];
      const prompt = fullContext?.systemMessage
        ? buildPrompt(question, fullContext.passages, history, {
            systemMessage: fullContext.systemMessage,
            relevant,
          })
        : buildPrompt(question, passages, history, undefined, deps.topic?.());
      if (fullContext) given = fullContext.passages;
      try {
        const request = options.signal ? { signal: options.signal } : {};
        for await (const chunk of deps.llm.streamChat(prompt, request)) {
          if (chunk.type === 'reasoning') yield { type: 'reasoning', delta: chunk.delta };
          else if (chunk.type === 'text') {
            text += chunk.delta;
            yield { type: 'text', delta: chunk.delta };
          } else if (chunk.type === 'usage') usage = chunk.usage;
        }
      } catch (error) {
        failure =
          error instanceof LlmError ? error : new LlmError('cut_off', String(error), { cause: error });
        if (!text.trim()) throw failure;
        deps.logger.warn(
          { kind: failure.kind, conversationId },
          'model stream ended early; keeping partial answer',
        );
      }
      if (!text.trim()) throw new LlmError('empty', 'model returned an empty answer');
      done = {
        ...base,
        type: 'done',
        answer: text,
        citations: collectCitations(text, given, fullContext ? relevant : undefined),
        notCovered,
        usage,
        incomplete: failure !== undefined,
        latencyMs: elapsedMs(),
      };
      if (failure) done.incompleteReason = failure.kind;
    }

    done.grounding = checkGrounding(done, given);
    if (done.grounding.ungroundedFigures.length > 0) {
      // The answer id and the figures only: neither the question nor the answer is logged at info level.
      deps.logger.info(
        { answerId, figures: done.grounding.ungroundedFigures },
        'answer states figures no given passage holds',
      );
    }
    await remember(conversationId, {
      question,
      answer: done.answer,
      citations: done.citations,
      knowledgeVersion,
      at: Date.now(),
      ...(query === question ? {} : { query }),
    });
    if (cacheKey && !done.incomplete) {
      await writeCache(cacheKey, {
        answer: done.answer,
        citations: done.citations,
        notCovered: done.notCovered,
      });
    }
    yield done;
  }

  /** Counts and times every answer; the stream itself passes through untouched. */
  return async function* answer(rawQuestion, conversationId, options = {}) {
    const metrics = deps.metrics;
    if (!metrics) {
      yield* produce(rawQuestion, conversationId, options);
      return;
    }
    const platform = options.platform ?? 'cli';
    const labels = { platform, mode };
    const started = performance.now();
    let sawText = false;
    try {
      for await (const event of produce(rawQuestion, conversationId, options)) {
        if (event.type === 'text' && !sawText) {
          sawText = true;
          metrics.firstTextSeconds.observe(labels, (performance.now() - started) / 1000);
        }
        if (event.type === 'done') recordDone(metrics, labels, event, (performance.now() - started) / 1000);
        yield event;
      }
    } catch (error) {
      const kind = error instanceof LlmError ? error.kind : error instanceof Error ? error.name : 'unknown';
      metrics.errors.inc({ platform, kind });
      metrics.questions.inc({ ...labels, outcome: 'error' });
      throw error;
    }
  };
}

function recordDone(
  metrics: Metrics,
  labels: { platform: string; mode: string },
  done: AnswerDone,
  seconds: number,
) {
  metrics.answerSeconds.observe(labels, seconds);
  const outcome = done.cached
    ? 'cached'
    : done.incomplete
      ? 'incomplete'
      : done.notCovered
        ? 'not_covered'
        : 'answered';
  metrics.questions.inc({ ...labels, outcome });
  const ungrounded = done.grounding?.ungroundedFigures.length ?? 0;
  if (ungrounded > 0) metrics.ungroundedFigures.inc(labels, ungrounded);
  if (done.incomplete)
    metrics.errors.inc({ platform: labels.platform, kind: done.incompleteReason ?? 'cut_off' });
  const usage = done.usage;
  if (!usage) return;
  const model = done.model ?? 'unknown';
  metrics.llmTokens.inc({ kind: 'prompt', model }, usage.promptTokens);
  metrics.llmTokens.inc({ kind: 'completion', model }, usage.completionTokens);
  if (usage.reasoningTokens) metrics.llmTokens.inc({ kind: 'reasoning', model }, usage.reasoningTokens);
  if (usage.promptCacheHitTokens)
    metrics.llmTokens.inc({ kind: 'prompt_cache_hit', model }, usage.promptCacheHitTokens);
}
