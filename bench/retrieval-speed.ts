/**
 * Section 3: how long building the index and answering a query take, and how much memory the index holds,
 * for the real knowledge file and for generated corpora of 1k, 10k and 100k passages — for the shipped
 * index (src/search/bm25-index.ts) and, in the same run, the reference BM25 it is checked against
 * (MiniSearch, bench/reference-bm25.ts); then how late the event loop runs while the bot reloads a
 * 100k-passage knowledge directory, and whether questions are answered meanwhile.
 */

import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createPoquan } from '../src/composition-root.ts';
import { loadConfig } from '../src/core/config.ts';
import { createGlossaryMatcher } from '../src/core/glossary.ts';
import type { KnowledgeBase } from '../src/core/knowledge.ts';
import type { PassageIndex } from '../src/core/passage-index.ts';
import { createRetriever, type Retriever } from '../src/core/retriever.ts';
import { tokenize } from '../src/core/tokenize.ts';
import { createLogger } from '../src/logging/logger.ts';
import { buildBm25IndexData, openBm25Index } from '../src/search/bm25-index.ts';
import { collectGarbage } from './heap.ts';
import { knowledgeDir, loadBenchInputs } from './inputs.ts';
import { createReferenceIndex } from './reference-bm25.ts';
import {
  formatCount,
  formatMiB,
  formatMs,
  formatPercent,
  type Goal,
  type SectionOptions,
  type SectionResult,
  type Table,
} from './report.ts';
import { type Distribution, median, summarize } from './stats.ts';
import { generateCorpus } from './synthetic-corpus.ts';

/** The bot's default RETRIEVAL_TOP_K. */
const k = 4;

interface Corpus {
  name: string;
  builds: number;
  /** Timed rounds of all questions: at least `minRounds`, more while under `budgetMs`, at most `maxRounds`. */
  minRounds: number;
  maxRounds: number;
  budgetMs: number;
  /** The p99 this corpus must stay under, when the issue sets one. */
  p99GoalMs?: number;
  knowledge(): KnowledgeBase;
}

interface Implementation {
  name: string;
  shipped: boolean;
  index(knowledge: KnowledgeBase): PassageIndex;
}

const implementations: Implementation[] = [
  {
    name: 'shipped: compact index (src/search/bm25-index.ts)',
    shipped: true,
    index: (kb) => openBm25Index(buildBm25IndexData(kb.passages, tokenize), tokenize),
  },
  {
    name: 'reference: MiniSearch (bench/reference-bm25.ts)',
    shipped: false,
    index: (kb) => createReferenceIndex(kb.passages, tokenize),
  },
];

interface Measurement {
  corpus: string;
  passages: number;
  characters: number;
  retriever: string;
  shipped: boolean;
  buildMs: number[];
  memoryBytes: number;
  query: Distribution;
  /** Share of questions whose top-k (ids and scores) equals the shipped retriever's on the same corpus. */
  sameAsShipped: number;
  /** Mean share of the corpus that shares a term with an (expanded) question. */
  matchingShare: number;
  p99GoalMs?: number;
}

/** V8 heap plus memory outside it (typed-array buffers live there), after a full collection. */
function memoryInUse(): number {
  // Twice: the first collection can leave objects whose finalizers free more.
  collectGarbage();
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/**
 * Times `builds` index builds and keeps every index alive until memory is read again, so the per-index
 * memory is an average over `builds` (a single small index is lost in the noise of a collection).
 */
function measureBuild(
  implementation: Implementation,
  knowledge: KnowledgeBase,
  builds: number,
): { buildMs: number[]; memoryBytes: number; retriever: Retriever; index: PassageIndex } {
  const before = memoryInUse();
  const buildMs: number[] = [];
  const indexes: PassageIndex[] = [];
  for (let build = 0; build < builds; build++) {
    const started = performance.now();
    const index = implementation.index(knowledge);
    // One query sizes the shipped index's scratch arrays, which belong to its memory.
    index.search(['deepseek'], k);
    indexes.push(index);
    buildMs.push(performance.now() - started);
  }
  const memoryBytes = (memoryInUse() - before) / builds;
  const index = indexes[0] as PassageIndex;
  return { buildMs, memoryBytes, retriever: createRetriever(knowledge, index), index };
}

/**
 * One untimed warm-up round of every question, which also gives each question's result key, then timed
 * rounds as `corpus` allows.
 */
function measureQueries(
  retriever: Retriever,
  questions: string[],
  corpus: Corpus,
): { samples: number[]; keys: string[] } {
  const keys = questions.map((question) => resultKey(retriever, question));
  const samples: number[] = [];
  const started = performance.now();
  for (let round = 0; round < corpus.maxRounds; round++) {
    if (round >= corpus.minRounds && performance.now() - started > corpus.budgetMs) break;
    for (const question of questions) {
      const queryStarted = performance.now();
      retriever.retrievePassages(question, k);
      samples.push(performance.now() - queryStarted);
    }
  }
  return { samples, keys };
}

/**
 * The first calls of a fresh process, before anything else in the section has run: V8 compiles a regular
 * expression on its first use and again to machine code on its second, and compiled code is shared by every
 * later expression with the same source — so this can only be measured once per process, first.
 */
function measureColdStart(knowledge: KnowledgeBase, questions: string[]): Table {
  const time = (work: () => unknown) => {
    const started = performance.now();
    work();
    return performance.now() - started;
  };
  const matcher = createGlossaryMatcher(knowledge.glossary);
  const expansion = questions.slice(0, 3).map((question) => time(() => matcher(question)));
  const chinese = questions.find((question) => /\p{Script=Han}/u.test(question)) ?? '';
  const tokenizing = [time(() => tokenize(chinese)), time(() => tokenize(chinese))];
  const retriever = createRetriever(knowledge, implementations[0]?.index(knowledge) as PassageIndex);
  const retrieval = questions
    .slice(3, 6)
    .map((question) => time(() => retriever.retrievePassages(question, k)));
  const calls = (values: number[]) => values.map(formatMs).join(' / ');
  return {
    title: 'Cold start: the first calls in a fresh process (real file)',
    columns: ['step', '1st / 2nd / 3rd call'],
    rows: [
      [`glossary expansion (${knowledge.glossary.length} entries)`, calls(expansion)],
      ['tokenizing a Chinese question', calls(tokenizing)],
      ['retrievePassages on a new index, after those', calls(retrieval)],
    ],
    notes: [
      'Each call on a different question. The glossary matcher tests every entry’s patterns (Unicode-property regular expressions with look-behinds) against each question; V8 compiles them on the first call and to machine code on the second.',
    ],
  };
}

function resultKey(retriever: Retriever, question: string): string {
  return retriever
    .retrievePassages(question, k)
    .map((result) => `${result.passage.id}:${result.score.toPrecision(9)}`)
    .join(' ');
}

/** How many passages share a term with the glossary-expanded question: what MiniSearch scores and sorts. */
function countMatching(index: PassageIndex, expand: (query: string) => string[], question: string): number {
  const matching = new Set<number>();
  for (const term of new Set(tokenize([question, ...expand(question)].join(' ')))) {
    for (const position of index.passagesWith(term)) matching.add(position);
  }
  return matching.size;
}

/** monitorEventLoopDelay's sampling interval; its histogram includes it, so it is subtracted. */
const eventLoopResolutionMs = 10;
/** How often a question is asked during the reload, as a steady trickle of users would. */
const questionEveryMs = 50;
/** How long the same questions are asked with no reload, for the machine's own delay. */
const idleMs = 5_000;

interface ReloadMeasurement {
  passages: number;
  files: number;
  reloadMs: number;
  maxDelayMs: number;
  p99DelayMs: number;
  /** The same questions for as long, with no reload: what the machine itself adds. */
  idleMaxDelayMs: number;
  idleP99DelayMs: number;
  asked: number;
  answered: number;
  answerMs: Distribution;
  firstAnswerAfterMs: number;
  /** The largest event-loop delay while the first answer after the swap is made, with nothing else asked. */
  firstAnswerMaxDelayMs: number;
}

/**
 * Starts Poquan on the shipped knowledge, writes `base` beside it as Markdown files, and reloads while a
 * question is answered every `questionEveryMs` and the event loop's delay is recorded.
 */
async function measureReload(base: KnowledgeBase, questions: string[]): Promise<ReloadMeasurement> {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-bench-reload-'));
  try {
    for (const file of (await loadBenchInputs()).knowledge.files) {
      await copyFile(join(knowledgeDir, file.source), join(dir, file.source));
    }
    const poquan = await createPoquan(
      loadConfig({ KNOWLEDGE_DIR: dir, STORE_URL: 'memory://', ANSWER_CACHE_TTL_HOURS: '0' }),
      createLogger('silent'),
      { countMetrics: false },
    );
    const files = 20;
    const perFile = Math.ceil(base.passages.length / files);
    for (let file = 0; file < files; file++) {
      const passages = base.passages.slice(file * perFile, (file + 1) * perFile);
      const body = passages.map((passage) => `## ${passage.heading}\n\n${passage.text}\n`).join('\n');
      await writeFile(
        join(dir, `generated-${String(file).padStart(2, '0')}.md`),
        `# Generated ${file}\n\n${body}`,
      );
    }
    const answerOnce = async (question: string, chat: string) => {
      for await (const event of poquan.answer(question, chat)) if (event.type === 'done') return event;
      return undefined;
    };
    /** Asks a question every `questionEveryMs` and records the event loop's delay until `work` settles. */
    const whileAsking = async <T>(work: () => Promise<T>) => {
      collectGarbage();
      const histogram = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
      let asked = 0;
      let answered = 0;
      const answerMs: number[] = [];
      const asking = setInterval(() => {
        const started = performance.now();
        const question = questions[asked % questions.length] as string;
        asked++;
        void answerOnce(question, `reload-${asked}`).then((done) => {
          if (!done) return;
          answered++;
          answerMs.push(performance.now() - started);
        });
      }, questionEveryMs);
      histogram.enable();
      const started = performance.now();
      const result = await work();
      const elapsedMs = performance.now() - started;
      histogram.disable();
      clearInterval(asking);
      const delay = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - eventLoopResolutionMs);
      return {
        result,
        elapsedMs,
        asked,
        answered,
        answerMs,
        maxDelayMs: delay(histogram.max),
        p99DelayMs: delay(histogram.percentile(99)),
      };
    };
    const idle = await whileAsking(() => new Promise((resolve) => setTimeout(resolve, idleMs)));
    const reload = await whileAsking(() => poquan.reloadKnowledge());
    const { changed } = reload.result;
    if (!changed) throw new Error('the reload did not change the knowledge');
    const firstAnswer = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
    firstAnswer.enable();
    // The histogram records a delay only between two of its ticks: one before the answer, one after.
    await new Promise((resolve) => setTimeout(resolve, 3 * eventLoopResolutionMs));
    const firstStarted = performance.now();
    await answerOnce(questions[0] as string, 'after-reload');
    const firstAnswerAfterMs = performance.now() - firstStarted;
    await new Promise((resolve) => setTimeout(resolve, 3 * eventLoopResolutionMs));
    firstAnswer.disable();
    await poquan.close();
    return {
      passages: poquan.knowledge().passages.length,
      files,
      reloadMs: reload.elapsedMs,
      maxDelayMs: reload.maxDelayMs,
      p99DelayMs: reload.p99DelayMs,
      idleMaxDelayMs: idle.maxDelayMs,
      idleP99DelayMs: idle.p99DelayMs,
      asked: reload.asked,
      answered: reload.answered,
      answerMs: summarize(reload.answerMs),
      firstAnswerAfterMs,
      firstAnswerMaxDelayMs: Math.max(0, firstAnswer.max / 1e6 - eventLoopResolutionMs),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Section 3 of `npm run bench`; what and why in the file comment. */
export async function measureRetrievalSpeed({ quick, progress }: SectionOptions): Promise<SectionResult> {
  const { knowledge, qa } = await loadBenchInputs();
  const questions = qa.map((question) => question.q);
  const coldStart = measureColdStart(knowledge, questions);
  const expand = createGlossaryMatcher(knowledge.glossary);
  const real: Corpus = {
    name: 'real file',
    builds: quick ? 5 : 30,
    minRounds: quick ? 20 : 200,
    maxRounds: quick ? 20 : 200,
    budgetMs: 60_000,
    p99GoalMs: 1,
    knowledge: () => knowledge,
  };
  const generated = (
    passages: number,
    builds: number,
    minRounds: number,
    maxRounds: number,
    p99GoalMs?: number,
  ): Corpus => ({
    name: `generated ${formatCount(passages)}`,
    builds,
    minRounds,
    maxRounds,
    budgetMs: 15_000,
    ...(p99GoalMs === undefined ? {} : { p99GoalMs }),
    knowledge: () => generateCorpus(knowledge, passages),
  });
  const reloadSize = quick ? 1_000 : 100_000;
  const corpora: Corpus[] = quick
    ? [real, generated(1_000, 3, 5, 5)]
    : [real, generated(1_000, 10, 50, 50), generated(10_000, 5, 10, 40), generated(100_000, 2, 1, 40, 25)];

  const measurements: Measurement[] = [];
  for (const corpus of corpora) {
    progress(`${corpus.name}: generating`);
    const base = corpus.knowledge();
    const characters = base.passages.reduce((sum, passage) => sum + passage.text.length, 0);
    let shippedKeys: string[] = [];
    let matchingShare = Number.NaN;
    for (const implementation of implementations) {
      progress(`${corpus.name}, ${implementation.name}: ${corpus.builds} build(s), then queries`);
      const { buildMs, memoryBytes, retriever, index } = measureBuild(implementation, base, corpus.builds);
      const { samples, keys } = measureQueries(retriever, questions, corpus);
      if (implementation.shipped) {
        shippedKeys = keys;
        const counts = questions.map((question) => countMatching(index, expand, question));
        matchingShare = counts.reduce((sum, count) => sum + count, 0) / counts.length / base.passages.length;
      }
      measurements.push({
        corpus: corpus.name,
        passages: base.passages.length,
        characters,
        retriever: implementation.name,
        shipped: implementation.shipped,
        buildMs,
        memoryBytes,
        query: summarize(samples),
        sameAsShipped: keys.filter((key, index) => key === shippedKeys[index]).length / keys.length,
        matchingShare,
        ...(corpus.p99GoalMs === undefined ? {} : { p99GoalMs: corpus.p99GoalMs }),
      });
    }
  }
  progress(`reload of ${formatCount(reloadSize)} passages while answering`);
  const reload = await measureReload(generateCorpus(knowledge, reloadSize), questions);

  const table: Table = {
    title: `Index build and query latency (top ${k}; the ${questions.length} QA questions, with glossary expansion)`,
    columns: [
      'corpus',
      'passages',
      'characters',
      'index',
      'build (median)',
      'index memory',
      'queries timed',
      'query p50',
      'query p99',
      'query max',
      'top 4 = shipped',
    ],
    rows: measurements.map((m) => [
      m.corpus,
      formatCount(m.passages),
      formatCount(m.characters),
      m.retriever,
      `${formatMs(median(m.buildMs))} (${m.buildMs.length}×)`,
      formatMiB(m.memoryBytes),
      formatCount(m.query.n),
      formatMs(m.query.p50),
      formatMs(m.query.p99),
      formatMs(m.query.max),
      formatPercent(m.sameAsShipped),
    ]),
    notes: [
      'Generated corpora: seeded mixed passages — 60% English from a word-bigram model of the real file plus made-up names, 25% Chinese from glossary and common words, 15% English with Chinese terms — with the real passage lengths, headings (varied per section) and glossary.',
      'Both indexes answer through the same core retriever (src/core/retriever.ts: glossary expansion, floors); only the PassageIndex differs. Builds here run on this thread; the bot builds a reload’s index on a worker thread (table below).',
      'index memory: growth of heap plus external (typed-array) memory over the builds, all kept alive, per index (the shipped one with its query scratch arrays); each reading after a full garbage collection.',
      'Query latency: one retrievePassages() call (glossary expansion, tokenizing, scoring, thresholds), after one untimed warm-up round.',
      `Share of passages an expanded question shares a term with (all of which MiniSearch scores, materializes and sorts): ${corpora
        .map((corpus) => {
          const share = measurements.find((m) => m.corpus === corpus.name)?.matchingShare ?? Number.NaN;
          return `${corpus.name} ${formatPercent(share)}`;
        })
        .join(', ')}.`,
      'top 4 = shipped: share of questions whose top 4 (ids and scores to 9 digits) equal the shipped index’s on the same corpus.',
    ],
  };

  const reloadTable: Table = {
    title: `Hot reload of ${formatCount(reload.passages)} passages while answering (poquan.reloadKnowledge(), offline answers)`,
    columns: [
      'passages',
      'files',
      'reload',
      'event-loop delay max / p99',
      'same, idle',
      'questions asked / answered during it',
      'answer p50 / p99 during it',
      'first answer after the swap',
      'event-loop delay max during it',
    ],
    rows: [
      [
        formatCount(reload.passages),
        formatCount(reload.files),
        formatMs(reload.reloadMs),
        `${formatMs(reload.maxDelayMs)} / ${formatMs(reload.p99DelayMs)}`,
        `${formatMs(reload.idleMaxDelayMs)} / ${formatMs(reload.idleP99DelayMs)}`,
        `${formatCount(reload.asked)} / ${formatCount(reload.answered)}`,
        `${formatMs(reload.answerMs.p50)} / ${formatMs(reload.answerMs.p99)}`,
        formatMs(reload.firstAnswerAfterMs),
        formatMs(reload.firstAnswerMaxDelayMs),
      ],
    ],
    notes: [
      `Poquan starts on the shipped file; the generated corpus is written beside it as ${reload.files} Markdown files, then reloadKnowledge() loads, indexes and chooses the context strategy on a worker thread while a question is answered every ${questionEveryMs} ms.`,
      `Event-loop delay: monitorEventLoopDelay over the reload, minus its ${eventLoopResolutionMs} ms sampling interval. The main thread only receives the passages (2,000 per turn), the index and, offline, the sentence ranker’s statistics (transferred, not copied).`,
      `same, idle: the same questions for ${idleMs / 1000} s just before, with no reload: the delay the machine and the answers add by themselves.`,
      'First answer after the swap: the first question on the new version, asked alone, and the largest event-loop delay while it is made. The offline sentence ranker’s statistics (a term → sentence-count table, src/search/sentence-statistics.ts) are counted on the worker with the index, so what remains is the first queries’ warm-up on the new index.',
    ],
  };

  const goals: Goal[] = measurements
    .filter((m) => m.shipped && m.p99GoalMs !== undefined)
    .map((m) => {
      const goalMs = m.p99GoalMs as number;
      const goal: Goal = {
        goal: `query p99 ≤ ${goalMs} ms on the ${m.corpus} (${formatCount(m.passages)} passages)`,
        measured: formatMs(m.query.p99),
        met: m.query.p99 <= goalMs,
      };
      // On a small corpus every query does little work, so a slow p99 is a few pauses, not the search itself.
      if (!goal.met) {
        goal.cause = `the median is ${formatMs(m.query.p50)}: the slow 1% are pauses (garbage collection, compilation, other load on the machine; max ${formatMs(m.query.max)}).`;
      }
      return goal;
    });
  const largest = measurements.find((m) => m.shipped && m.passages === 100_000);
  if (largest) {
    goals.push({
      goal: 'index memory ≤ 100 MiB at 100,000 passages',
      measured: formatMiB(largest.memoryBytes),
      met: largest.memoryBytes <= 100 * 1024 * 1024,
    });
  }
  if (!quick) {
    goals.push({
      goal: `largest event-loop delay ≤ 50 ms during a reload of ${formatCount(reload.passages)} passages`,
      measured: formatMs(reload.maxDelayMs),
      met: reload.maxDelayMs <= 50,
    });
    // Building anything over the whole knowledge on the answering thread takes seconds at this size.
    goals.push({
      goal: `first offline answer after a reload of ${formatCount(reload.passages)} passages ≤ 1 s`,
      measured: formatMs(reload.firstAnswerAfterMs),
      met: reload.firstAnswerAfterMs <= 1000,
    });
  }

  return {
    tables: [table, reloadTable, coldStart],
    goals,
    data: { k, measurements, reload, coldStart: coldStart.rows },
  };
}
