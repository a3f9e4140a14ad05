/**
 * Section 6: full context against retrieval, side by side in one run on the shipped knowledge (issue 12).
 * Every question goes through `answer()` → the `openai` SDK → the fake DeepSeek on loopback, whose usage
 * reports prompt tokens as characters/4 and cache hits in 64-token units of the longest prefix shared with
 * an earlier request, as DeepSeek's context cache does. Measured per mode: prompt, cache-hit and uncached
 * tokens per answer (first turn and follow-up), first-text latency, whether the expected fact reached the
 * model, and refusals; on the tuning questions and on the held-out questions nobody tuned on.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createPoquan, type Poquan } from '../src/composition-root.ts';
import type { AnswerDone } from '../src/core/answer-events.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/logging/logger.ts';
import { type FakeLlm, parsePassages, startFakeLlm } from '../test/fakes/fake-llm.ts';
import { knowledgeDir } from './inputs.ts';
import {
  formatCount,
  formatMs,
  formatPercent,
  type Goal,
  type SectionOptions,
  type SectionResult,
  type Table,
} from './report.ts';
import { median } from './stats.ts';

const QaTurn = z.union([
  z.object({
    q: z.string(),
    lang: z.string(),
    after: z.string().optional(),
    expect_any: z.array(z.string()).min(1),
  }),
  z.object({ q: z.string(), lang: z.string(), after: z.string().optional(), out_of_scope: z.literal(true) }),
]);
/** A QA question, optionally asked right after another question in the same conversation (`after`). */
type QaTurn = z.infer<typeof QaTurn>;

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

/** The questions tuned on (the QA fixture and the follow-up pairs), and the held-out ones. */
const questionSets = {
  tuning: [fixture('qa.jsonl'), fixture('qa-follow-ups.jsonl')],
  heldOut: [fixture('qa-heldout.jsonl')],
};

async function readQaTurns(paths: string[]): Promise<QaTurn[]> {
  const texts = await Promise.all(paths.map((path) => readFile(path, 'utf8')));
  return texts
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.trim())
    .map((line) => QaTurn.parse(JSON.parse(line)));
}

type Mode = 'full' | 'retrieve';

/** A Poquan in one context mode against one fake model; nothing can skip the model but Poquan's own refusal. */
async function poquanAgainst(llm: FakeLlm, mode: Mode, rewriteTimeoutMs: number): Promise<Poquan> {
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
      CONTEXT_MODE: mode,
      FOLLOW_UP_REWRITE_TIMEOUT_MS: String(rewriteTimeoutMs),
    }),
    createLogger('silent'),
  );
}

/** What happened to one question. */
interface Outcome {
  turn: QaTurn;
  done: AnswerDone;
  firstTextMs: number;
  /** The answer request it caused (streamed), if Poquan asked the model. */
  modelCalled: boolean;
  /** In scope: an expected fact is in a passage the model was given. */
  factReached: boolean;
  /** Full mode: an expected fact is in a passage named "most relevant" (retrieve mode: in the top passage list). */
  factHinted: boolean;
}

function containsFact(texts: string[], facts: string[]): boolean {
  const lower = texts.map((text) => text.toLowerCase());
  return facts.some((fact) => lower.some((text) => text.includes(fact.toLowerCase())));
}

async function ask(poquan: Poquan, llm: FakeLlm, turn: QaTurn, conversationId: string): Promise<Outcome> {
  const before = llm.requests.length;
  const started = performance.now();
  let firstTextMs = Number.NaN;
  let done: AnswerDone | undefined;
  for await (const event of poquan.answer(turn.q, conversationId)) {
    if (event.type === 'text' && Number.isNaN(firstTextMs)) firstTextMs = performance.now() - started;
    if (event.type === 'done') done = event;
  }
  const request = llm.requests.slice(before).find((r) => r.body?.stream === true);
  const messages = (request?.body.messages ?? []) as Array<{ role: string; content: string }>;
  const passages = parsePassages(messages[0]?.content ?? '');
  const hint = /Most relevant passages: (.*)$/.exec(messages.at(-1)?.content ?? '')?.[1];
  const hinted = hint
    ? [...hint.matchAll(/\d+/g)].map((m) => passages.find((p) => p.n === Number(m[0])))
    : passages;
  const facts = 'expect_any' in turn ? turn.expect_any : [];
  return {
    turn,
    done: done as AnswerDone,
    firstTextMs,
    modelCalled: request !== undefined,
    factReached:
      request !== undefined &&
      containsFact(
        passages.map((p) => p.text),
        facts,
      ),
    factHinted: containsFact(
      hinted.flatMap((p) => (p ? [p.text] : [])),
      facts,
    ),
  };
}

/** Every question of a set, each in its own conversation (after its `after` question), against one model. */
async function runSet(turns: QaTurn[], mode: Mode, rewriteTimeoutMs: number, label: string) {
  const llm = await startFakeLlm({ defaultReply: { chunkChars: 64 } });
  const poquan = await poquanAgainst(llm, mode, rewriteTimeoutMs);
  const outcomes: Outcome[] = [];
  try {
    for (const [index, turn] of turns.entries()) {
      const conversationId = `bench:${label}:${index}`;
      // The opening question of a pair only sets up the conversation; it is not scored.
      if (turn.after)
        await ask(poquan, llm, { q: turn.after, lang: turn.lang, expect_any: ['-'] }, conversationId);
      outcomes.push(await ask(poquan, llm, turn, conversationId));
    }
  } finally {
    await poquan.close();
    await llm.close();
  }
  return { outcomes, rewrites: llm.requests.filter((r) => r.body?.stream !== true).length };
}

interface Shares {
  inScope: number;
  reached: number;
  reachedEn: number;
  reachedZh: number;
  hinted: number;
  wronglyRefused: number;
  outOfScope: number;
  refusedWithoutModel: number;
  refusedAfterOnTopic: number;
  misses: string[];
}

function share(part: Outcome[], whole: Outcome[]): number {
  return whole.length === 0 ? Number.NaN : part.length / whole.length;
}

function sharesOf(outcomes: Outcome[]): Shares {
  const inScope = outcomes.filter((o) => 'expect_any' in o.turn);
  const outOfScope = outcomes.filter((o) => 'out_of_scope' in o.turn);
  const reached = inScope.filter((o) => o.factReached);
  const byLang = (lang: string) => {
    const all = inScope.filter((o) => o.turn.lang === lang);
    return share(
      all.filter((o) => o.factReached),
      all,
    );
  };
  const afterOnTopic = outOfScope.filter((o) => o.turn.after);
  return {
    inScope: inScope.length,
    reached: share(reached, inScope),
    reachedEn: byLang('en'),
    reachedZh: byLang('zh'),
    hinted: share(
      inScope.filter((o) => o.factHinted),
      inScope,
    ),
    wronglyRefused: share(
      inScope.filter((o) => !o.modelCalled),
      inScope,
    ),
    outOfScope: outOfScope.length,
    refusedWithoutModel: share(
      outOfScope.filter((o) => !o.modelCalled),
      outOfScope,
    ),
    refusedAfterOnTopic: share(
      afterOnTopic.filter((o) => !o.modelCalled),
      afterOnTopic,
    ),
    misses: [
      ...inScope.filter((o) => !o.factReached).map((o) => `fact missed: ${o.turn.q}`),
      ...inScope.filter((o) => o.factReached && !o.factHinted).map((o) => `not in hint: ${o.turn.q}`),
      ...outOfScope.filter((o) => o.modelCalled).map((o) => `model called: ${o.turn.q}`),
    ],
  };
}

interface TokenRow {
  prompt: number;
  hit: number;
  uncached: number;
  firstTextMs: number;
  answers: number;
}

function tokenRow(outcomes: Outcome[]): TokenRow {
  const answered = outcomes.filter((o) => o.modelCalled && o.done.usage);
  const usage = answered.map((o) => o.done.usage as NonNullable<AnswerDone['usage']>);
  return {
    prompt: median(usage.map((u) => u.promptTokens)),
    hit: median(usage.map((u) => u.promptCacheHitTokens ?? 0)),
    uncached: median(usage.map((u) => u.promptTokens - (u.promptCacheHitTokens ?? 0))),
    firstTextMs: median(answered.map((o) => o.firstTextMs)),
    answers: answered.length,
  };
}

/** Section 6 of `npm run bench`; what and why in the file comment. */
export async function measureContextStrategy({ quick, progress }: SectionOptions): Promise<SectionResult> {
  const heldOut = await readQaTurns(questionSets.heldOut);
  // The quick run measures the held-out questions only, shown in the tuning rows too so the tables keep their shape.
  const tuning = quick ? heldOut : await readQaTurns(questionSets.tuning);
  const latencyRounds = quick ? 1 : 5;
  const modes: Mode[] = ['full', 'retrieve'];
  const runs: Record<string, Awaited<ReturnType<typeof runSet>>> = {};
  const followUpPairs = heldOut.filter((turn) => turn.after);
  for (const mode of modes) {
    progress(`${mode}: held-out questions`);
    runs[`${mode}:heldOut`] = await runSet(heldOut, mode, 0, `${mode}-heldOut`);
    progress(`${mode}: tuning questions`);
    runs[`${mode}:tuning`] = quick
      ? (runs[`${mode}:heldOut`] as Awaited<ReturnType<typeof runSet>>)
      : await runSet(tuning, mode, 0, `${mode}-tuning`);
    // Rewrite on and off alternate, so load on the machine falls on both alike.
    progress(`${mode}: held-out follow-ups, model rewrite against the lexical rule, ${latencyRounds} rounds`);
    const lexical = { outcomes: [] as Outcome[], rewrites: 0 };
    const rewritten = { outcomes: [] as Outcome[], rewrites: 0 };
    for (let round = 0; round < latencyRounds; round++) {
      for (const [total, timeoutMs] of [
        [lexical, 0],
        [rewritten, 3000],
      ] as const) {
        const measured = await runSet(followUpPairs, mode, timeoutMs, `${mode}-${timeoutMs}-${round}`);
        total.outcomes.push(...measured.outcomes);
        total.rewrites += measured.rewrites;
      }
    }
    runs[`${mode}:lexical`] = lexical;
    runs[`${mode}:rewrite`] = rewritten;
  }
  const run = (key: string) => runs[key] as Awaited<ReturnType<typeof runSet>>;

  const firstTurns = (key: string) => run(key).outcomes.filter((o) => !o.turn.after);
  const followUps = (key: string) => run(key).outcomes.filter((o) => o.turn.after);
  const tokenTable: Table = {
    title:
      'Tokens and first-text latency per answer, full context against retrieval (held-out + tuning questions)',
    columns: [
      'mode',
      'turn',
      'answers',
      'prompt tokens (median)',
      'cache hit (median)',
      'uncached (median)',
      'first text (median)',
    ],
    rows: modes.flatMap((mode) =>
      (
        [
          ['first turn', [...firstTurns(`${mode}:tuning`), ...firstTurns(`${mode}:heldOut`)]],
          ['follow-up', [...followUps(`${mode}:tuning`), ...followUps(`${mode}:heldOut`)]],
        ] as const
      ).map(([turn, outcomes]) => {
        const row = tokenRow([...outcomes]);
        return [
          mode,
          turn,
          String(row.answers),
          formatCount(row.prompt),
          formatCount(row.hit),
          formatCount(row.uncached),
          formatMs(row.firstTextMs),
        ];
      }),
    ),
    notes: [
      'One fake DeepSeek per mode and question set, questions one after another, so the cache is warm after the first answer, as in a running bot. Tokens are the fake’s characters/4 over the message contents; cache hits are its 64-token prefix units.',
      'uncached = prompt tokens − cache-hit tokens as the fake reports them: what DeepSeek bills at the cache-miss price.',
      'Follow-ups are the second question of a pair ("after" in the fixtures), searched by the default lexical rule (FOLLOW_UP_REWRITE_TIMEOUT_MS=0); the next table adds the model rewrite.',
      'The fake model answers at once: first-text latency here is Poquan’s own work plus loopback HTTP, not a provider’s.',
    ],
  };

  const qualityRows = modes.flatMap((mode) =>
    (['tuning', 'heldOut'] as const).map((set) => {
      const shares = sharesOf(run(`${mode}:${set}`).outcomes);
      return { mode, set, shares };
    }),
  );
  const qualityTable: Table = {
    title:
      'Does the expected fact reach the model, and are out-of-scope questions refused without a model call?',
    columns: [
      'mode',
      'questions',
      'in scope',
      'fact reached (en / zh)',
      'fact in most relevant',
      'in scope wrongly refused',
      'out of scope',
      'refused without model call',
      '… right after an on-topic question',
    ],
    rows: qualityRows.map(({ mode, set, shares }) => [
      mode,
      set === 'heldOut' ? 'held-out' : 'tuning',
      String(shares.inScope),
      `${formatPercent(shares.reached)} (${formatPercent(shares.reachedEn)} / ${formatPercent(shares.reachedZh)})`,
      formatPercent(shares.hinted),
      formatPercent(shares.wronglyRefused),
      String(shares.outOfScope),
      formatPercent(shares.refusedWithoutModel),
      formatPercent(shares.refusedAfterOnTopic),
    ]),
    notes: [
      'fact reached: the model was asked and a passage it was given contains one of the question’s expected strings. Full context gives every passage, so there it is the share of in-scope questions not refused.',
      'fact in most relevant: the expected fact is in a passage the question names as most relevant (full) or in the retrieved top 4 (retrieve).',
      'held-out: test/fixtures/qa-heldout.jsonl, written before any tuning and never tuned on; tuning: qa.jsonl and qa-follow-ups.jsonl.',
    ],
  };

  const rewriteRows = modes.map((mode) => {
    const withModel = run(`${mode}:rewrite`).outcomes;
    const lexical = run(`${mode}:lexical`).outcomes;
    const latency = (outcomes: Outcome[]) =>
      median(outcomes.filter((o) => o.modelCalled).map((o) => o.firstTextMs));
    const modelShares = sharesOf(withModel);
    const lexicalShares = sharesOf(lexical);
    return [
      mode,
      formatMs(latency(lexical)),
      formatMs(latency(withModel)),
      formatMs(latency(withModel) - latency(lexical)),
      `${formatPercent(lexicalShares.reached)} / ${formatPercent(modelShares.reached)}`,
      `${formatPercent(lexicalShares.refusedWithoutModel)} / ${formatPercent(modelShares.refusedWithoutModel)}`,
    ];
  });
  const rewriteTable: Table = {
    title: `Follow-ups: the model rewrite of the search query against the lexical rule alone (held-out follow-up pairs, ${latencyRounds} rounds)`,
    columns: [
      'mode',
      'first text, lexical (median)',
      'first text, model rewrite (median)',
      'added by the rewrite',
      'fact reached lexical / rewrite',
      'out of scope refused lexical / rewrite',
    ],
    rows: rewriteRows,
    notes: [
      'The rewrite (FOLLOW_UP_REWRITE_TIMEOUT_MS=3000 here; off by default) is one short non-streamed call, thinking off and at most 60 tokens, made only for questions that lean on the conversation; the lexical rule takes over on timeout or error.',
      'The fake answers the rewrite at once and literally (latest message + earlier question), so the added latency here is Poquan’s and loopback’s share only; a real provider adds its own response time for a ~20-token completion, up to the timeout.',
    ],
  };

  const held = (mode: Mode) => sharesOf(run(`${mode}:heldOut`).outcomes);
  const full = held('full');
  const retrieveFirst = tokenRow(firstTurns('retrieve:heldOut'));
  const fullFirst = tokenRow(firstTurns('full:heldOut'));
  const goals: Goal[] = [
    {
      goal: 'Held-out: the fact reaches the model for ≥ 97% of in-scope questions, in English and in Chinese (full context, the default for the shipped knowledge)',
      measured: `en ${formatPercent(full.reachedEn)}, zh ${formatPercent(full.reachedZh)}`,
      met: full.reachedEn >= 0.97 && full.reachedZh >= 0.97,
    },
    {
      goal: 'Held-out: out-of-scope questions (also right after an on-topic one) refused without a model call ≥ 95%',
      measured: `${formatPercent(full.refusedWithoutModel)} (right after an on-topic question ${formatPercent(full.refusedAfterOnTopic)})`,
      met: full.refusedWithoutModel >= 0.95 && full.refusedAfterOnTopic >= 0.95,
    },
    {
      goal: 'Held-out: in-scope questions wrongly refused ≤ 3%',
      measured: formatPercent(full.wronglyRefused),
      met: full.wronglyRefused <= 0.03,
    },
    {
      goal: 'Uncached prompt tokens per first-turn answer ≤ 1.5× retrieval’s (today’s), warm cache',
      measured: `${formatCount(fullFirst.uncached)} against ${formatCount(retrieveFirst.uncached)} (${(fullFirst.uncached / retrieveFirst.uncached).toFixed(2)}×)`,
      met: fullFirst.uncached <= 1.5 * retrieveFirst.uncached,
    },
  ];
  return {
    tables: [tokenTable, qualityTable, rewriteTable],
    goals,
    data: {
      misses: Object.fromEntries(
        Object.entries(runs).map(([key, value]) => [key, sharesOf(value.outcomes).misses]),
      ),
      rewriteRequests: Object.fromEntries(Object.entries(runs).map(([key, value]) => [key, value.rewrites])),
    },
  };
}
