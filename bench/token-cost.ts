/**
 * Section 2: what an answer costs in prompt tokens, with retrieval and with the whole knowledge file in the
 * prompt, and how much of a follow-up's prompt DeepSeek's context cache can serve. Every number comes from
 * real requests: `answer()` → the `openai` SDK → the fake DeepSeek on loopback, whose usage reports
 * prompt tokens as characters/4 and cache hits as the longest common prefix with earlier prompts, in
 * 64-token units, as DeepSeek's cache stores them.
 */

import { createPoquan, type Poquan } from '../src/composition-root.ts';
import { type Answerer, createAnswerer } from '../src/core/answer.ts';
import type { Usage } from '../src/core/answer-events.ts';
import { loadConfig } from '../src/core/config.ts';
import type { QaCase } from '../src/core/evaluate.ts';
import type { ScoredPassage } from '../src/core/retriever.ts';
import { createLogger } from '../src/logging/logger.ts';
import { type FakeLlm, startFakeLlm } from '../test/fakes/fake-llm.ts';
import { knowledgeDir, loadBenchInputs, loadWholeFiles } from './inputs.ts';
import { formatCount, formatPercent, type SectionOptions, type SectionResult, type Table } from './report.ts';
import { median } from './stats.ts';

/** One way of building the prompt: Poquan's retrieval, or the whole file whatever the question. */
interface Strategy {
  name: string;
  answererFor(poquan: Poquan): Answerer;
}

/** A Poquan wired to one fake model, with nothing that could skip the model (no cache, no rate limit). */
async function poquanAgainst(llm: FakeLlm): Promise<Poquan> {
  return createPoquan(
    loadConfig({
      KNOWLEDGE_DIR: knowledgeDir,
      STORE_URL: 'memory://',
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-bench',
      LLM_MAX_RETRIES: '0',
      LLM_THINKING: 'off',
      ANSWER_CACHE_TTL_HOURS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
      // Section 6 compares full context with retrieval; this section measures retrieval's prompts.
      CONTEXT_MODE: 'retrieve',
    }),
    createLogger('silent'),
  );
}

/**
 * The longest prefix (characters/4, no 64-token rounding) a request shares with any earlier request to the
 * same model: what a prefix cache could serve, measured on the same text the prompt tokens are counted on.
 */
function stablePrefixTokens(requests: FakeLlm['requests'], index: number): number {
  const prompt = promptText(requests[index] as FakeLlm['requests'][number]);
  let longest = 0;
  for (const earlier of requests.slice(0, index))
    longest = Math.max(longest, commonPrefixLength(prompt, promptText(earlier)));
  return Math.floor(longest / 4);
}

/** Answers one question and returns the usage the model reported; undefined when no model was asked. */
async function usageOf(
  answer: Answerer,
  question: string,
  conversationId: string,
): Promise<Usage | undefined> {
  let usage: Usage | undefined;
  for await (const event of answer(question, conversationId)) {
    if (event.type === 'done') usage = event.usage;
  }
  return usage;
}

/** A request's prompt as the fake counts its tokens: the message contents, concatenated. */
function promptText(request: FakeLlm['requests'][number]): string {
  return (request.body.messages as Array<{ content: string }>).map((message) => message.content).join('');
}

function commonPrefixLength(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let i = 0;
  while (i < limit && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

interface SingleResult {
  promptTokens: number[];
  /** As the fake reports them (64-token units). */
  hitTokens: number[];
  /** Prompt tokens minus the stable prefix: what no prefix cache can serve. */
  uncachedTokens: number[];
  modelCalls: number;
  outOfScopeModelCalls: number;
}

/** Every QA question as the first question of its own conversation, one after another against one model. */
async function measureSingleQuestions(strategy: Strategy, qa: QaCase[]): Promise<SingleResult> {
  const llm = await startFakeLlm({ defaultReply: { chunkChars: 64 } });
  const poquan = await poquanAgainst(llm);
  const answer = strategy.answererFor(poquan);
  const result: SingleResult = {
    promptTokens: [],
    hitTokens: [],
    uncachedTokens: [],
    modelCalls: 0,
    outOfScopeModelCalls: 0,
  };
  try {
    for (const [index, question] of qa.entries()) {
      const usage = await usageOf(answer, question.q, `bench:single:${index}`);
      if (!usage) continue;
      result.modelCalls++;
      if ('out_of_scope' in question) {
        result.outOfScopeModelCalls++;
        continue;
      }
      result.promptTokens.push(usage.promptTokens);
      result.hitTokens.push(usage.promptCacheHitTokens ?? 0);
      result.uncachedTokens.push(
        usage.promptTokens - stablePrefixTokens(llm.requests, llm.requests.length - 1),
      );
    }
  } finally {
    await poquan.close();
    await llm.close();
  }
  return result;
}

interface FollowUpResult {
  conversations: number;
  promptTokens: number[];
  hitTokens: number[];
  hitShares: number[];
  /** Longest common prefix with the first question's prompt, as a share of the follow-up's prompt. */
  prefixShares: number[];
}

/**
 * Two-question conversations (consecutive in-scope questions of one language), each against a fresh model,
 * so the follow-up's cache hit comes only from its own conversation's first request.
 */
async function measureFollowUps(strategy: Strategy, qa: QaCase[]): Promise<FollowUpResult> {
  const inScope = qa.filter((question) => !('out_of_scope' in question));
  const pairs: Array<[QaCase, QaCase]> = [];
  for (let i = 0; i + 1 < inScope.length; i += 2) {
    const first = inScope[i] as QaCase;
    const second = inScope[i + 1] as QaCase;
    if (first.lang === second.lang) pairs.push([first, second]);
  }
  const result: FollowUpResult = {
    conversations: 0,
    promptTokens: [],
    hitTokens: [],
    hitShares: [],
    prefixShares: [],
  };
  for (const [index, [first, second]] of pairs.entries()) {
    const llm = await startFakeLlm({ defaultReply: { chunkChars: 64 } });
    const poquan = await poquanAgainst(llm);
    const answer = strategy.answererFor(poquan);
    try {
      await usageOf(answer, first.q, `bench:conversation:${index}`);
      const usage = await usageOf(answer, second.q, `bench:conversation:${index}`);
      if (!usage || llm.requests.length !== 2)
        throw new Error(`conversation ${index} did not reach the model twice`);
      result.conversations++;
      result.promptTokens.push(usage.promptTokens);
      result.hitTokens.push(usage.promptCacheHitTokens ?? 0);
      result.hitShares.push((usage.promptCacheHitTokens ?? 0) / usage.promptTokens);
      result.prefixShares.push(stablePrefixTokens(llm.requests, 1) / usage.promptTokens);
    } finally {
      await poquan.close();
      await llm.close();
    }
  }
  return result;
}

/** Section 2 of `npm run bench`; what and why in the file comment. */
export async function measureTokenCost({ progress }: SectionOptions): Promise<SectionResult> {
  const { knowledge, qa } = await loadBenchInputs();
  const wholeFiles: ScoredPassage[] = await loadWholeFiles(knowledge);
  const strategies: Strategy[] = [
    { name: 'Poquan: retrieval (top 4)', answererFor: (poquan) => poquan.answer },
    {
      name: 'no retrieval: whole file',
      answererFor: (poquan) =>
        createAnswerer({
          retriever: () => ({ knowledgeVersion: knowledge.version, retrievePassages: () => wholeFiles }),
          llm: poquan.llm,
          memory: poquan.memory,
          cache: undefined,
          cacheTtlMs: 0,
          topK: poquan.config.retrieval.topK,
          maxQuestionChars: poquan.config.maxQuestionChars,
          logger: poquan.logger,
        }),
    },
  ];

  const singles: SingleResult[] = [];
  const followUps: FollowUpResult[] = [];
  for (const strategy of strategies) {
    progress(`${strategy.name}: single questions`);
    singles.push(await measureSingleQuestions(strategy, qa));
    progress(`${strategy.name}: two-question conversations`);
    followUps.push(await measureFollowUps(strategy, qa));
  }
  const outOfScope = qa.filter((question) => 'out_of_scope' in question).length;

  const perAnswer: Table = {
    title: `Prompt tokens per answer, first question of a conversation (${singles[0]?.promptTokens.length} in-scope QA questions, one after another against one model)`,
    columns: [
      'prompt',
      'prompt tokens (median)',
      'min–max',
      'cache hit, fake (median)',
      'uncached (median)',
      `model calls for ${outOfScope} out-of-scope`,
    ],
    rows: strategies.map((strategy, index) => {
      const single = singles[index] as SingleResult;
      return [
        strategy.name,
        formatCount(median(single.promptTokens)),
        `${formatCount(Math.min(...single.promptTokens))}–${formatCount(Math.max(...single.promptTokens))}`,
        formatCount(median(single.hitTokens)),
        formatCount(median(single.uncachedTokens)),
        String(single.outOfScopeModelCalls),
      ];
    }),
    notes: [
      'Tokens are the fake DeepSeek’s estimate, characters/4 over the message contents; real tokenizers count differently (Chinese especially), so compare rows rather than read absolute prices.',
      'cache hit, fake: prompt_cache_hit_tokens as the fake reports it (64-token units). It measures the prefix on the JSON-serialized messages, where escaped newlines and quotes count extra, so for the whole file it reaches the whole prompt.',
      'uncached: prompt tokens minus the longest prefix shared with any earlier request, on the same text the tokens are counted on — what no prefix cache can serve. The fixed rules (and for the whole file, the file) repeat in every request; DeepSeek bills cache hits at a small fraction of the miss price, but caching is best-effort.',
      'Out-of-scope questions retrieve nothing with Poquan, which answers "not covered" itself without calling the model.',
    ],
  };

  const followUpTable: Table = {
    title: `Second question of a conversation (${followUps[0]?.conversations} two-question conversations, each against a fresh model cache)`,
    columns: [
      'prompt',
      'prompt tokens (median)',
      'cache hit tokens (median)',
      'cache hit share (median)',
      'stable prefix share (median)',
    ],
    rows: strategies.map((strategy, index) => {
      const followUp = followUps[index] as FollowUpResult;
      return [
        strategy.name,
        formatCount(median(followUp.promptTokens)),
        formatCount(median(followUp.hitTokens)),
        formatPercent(median(followUp.hitShares)),
        formatPercent(median(followUp.prefixShares)),
      ];
    }),
    notes: [
      'The follow-up prompt holds the first question and its answer as history; its cache hit is what the first request left behind.',
      'Stable prefix share: the longest common prefix of the two requests’ message contents over the follow-up’s length — what a cache with no 64-token rounding could reuse.',
      'With retrieval the stable prefix is the fixed rules: the follow-up retrieves other passages, and passages follow the rules inside the system message.',
    ],
  };

  return {
    tables: [perAnswer, followUpTable],
    goals: [],
    data: {
      tokenEstimate: 'characters/4 over message contents (fake DeepSeek usage)',
      strategies: strategies.map((strategy, index) => ({
        name: strategy.name,
        single: singles[index],
        followUp: followUps[index],
      })),
    },
  };
}
