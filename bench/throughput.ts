/**
 * Section 5: many conversations at once — through the core (`answer()` straight against the model) and
 * through the Telegram adapter (updates in, answers out through the Bot API) — with the fakes in a child
 * process. Counts answers per second, errors, the bot process's peak RSS and its event-loop delay.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startTelegramAdapter } from '../src/adapters/telegram/index.ts';
import { createPoquan, type Poquan } from '../src/composition-root.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/logging/logger.ts';
import type { FakeReply } from '../test/fakes/fake-llm.ts';
import type { FakesReport, FakesRequest } from './fakes-process.ts';
import { collectGarbage } from './heap.ts';
import {
  formatCount,
  formatMiB,
  formatMs,
  type Goal,
  type SectionOptions,
  type SectionResult,
  type Table,
} from './report.ts';
import { type Distribution, median, summarize } from './stats.ts';

const question = 'Who is behind DeepSeek, and where did his money come from?';
const expected = 'self-funded';
/** Fast but streaming: about 400 characters in 16-character chunks, 2 ms apart. */
const reply: FakeReply = {
  content:
    'DeepSeek was founded in 2023 by Liang Wenfeng, who had become a billionaire after founding the hedge fund ' +
    'High-Flyer in 2015 [1]. He financed the company with his own money, so DeepSeek is self-funded and could ' +
    'operate independently of the constraints of state or corporate funding [1]. Its V3 and R1 models perform on ' +
    'a par with leading global models, built at a much lower cost and without the most advanced chips [2].',
  reasoning: '',
  chunkChars: 16,
  chunkDelayMs: 2,
};
/** monitorEventLoopDelay's sampling interval; its histogram includes it, so it is subtracted. */
const eventLoopResolutionMs = 10;

/** One load level on one path. */
interface Burst {
  path: 'core' | 'telegram';
  conversations: number;
  wallMs: number;
  answered: number;
  errors: number;
  errorDetails: string[];
  /** RSS when the burst started (after a full collection) and the highest RSS seen during it. */
  startRssBytes: number;
  peakRssBytes: number;
  eventLoopDelayP99Ms: number;
  latencyMs: Distribution;
  /** CPU the bot process spent during the burst: near the wall time means its one thread was the limit. */
  botCpuMs: number;
  /** CPU the fakes' process spent during the burst: if near the wall time, the fakes were the limit. */
  fakesCpuMs: number;
}

/** Samples RSS and event-loop delay while `work` runs. */
async function observe<T>(
  work: () => Promise<T>,
): Promise<{ result: T; startRssBytes: number; peakRssBytes: number; eventLoopDelayP99Ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
  collectGarbage();
  const startRssBytes = process.memoryUsage.rss();
  let peakRssBytes = startRssBytes;
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
  }, 20);
  histogram.enable();
  try {
    const result = await work();
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
    return {
      result,
      startRssBytes,
      peakRssBytes,
      eventLoopDelayP99Ms: Math.max(0, histogram.percentile(99) / 1e6 - eventLoopResolutionMs),
    };
  } finally {
    histogram.disable();
    clearInterval(sampler);
  }
}

/** `conversations` answers at once through `poquan.answer`, each in its own conversation. */
async function coreBurst(poquan: Poquan, conversations: number, label: string): Promise<Burst> {
  const errorDetails: string[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  const { result, startRssBytes, peakRssBytes, eventLoopDelayP99Ms } = await observe(() =>
    Promise.all(
      Array.from({ length: conversations }, async (_, index) => {
        try {
          for await (const event of poquan.answer(question, `bench:${label}:${index}`, {
            platform: 'bench',
          })) {
            if (event.type !== 'done') continue;
            if (event.incomplete || !event.answer.includes(expected)) {
              errorDetails.push(`conversation ${index}: ${event.incomplete ? 'incomplete' : 'wrong answer'}`);
              return false;
            }
            latencies.push(performance.now() - started);
            return true;
          }
          errorDetails.push(`conversation ${index}: no done event`);
        } catch (error) {
          errorDetails.push(`conversation ${index}: ${(error as Error).message}`);
        }
        return false;
      }),
    ),
  );
  return {
    path: 'core',
    conversations,
    wallMs: performance.now() - started,
    answered: result.filter(Boolean).length,
    errors: errorDetails.length,
    errorDetails: errorDetails.slice(0, 5),
    startRssBytes,
    peakRssBytes,
    eventLoopDelayP99Ms,
    latencyMs: summarize(latencies),
    botCpuMs: 0,
    fakesCpuMs: 0,
  };
}

/** The fakes' child process: `call` sends a request and resolves with the report carrying its id. */
interface Fakes {
  ready: Extract<FakesReport, { type: 'ready' }>;
  call<T extends FakesReport['type']>(
    request: DistributiveOmit<Exclude<FakesRequest, { type: 'close' }>, 'id'>,
    reply: T,
  ): Promise<Extract<FakesReport, { type: T }>>;
  close(): Promise<void>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Starts the fakes' child process and resolves once the fake Telegram listens. */
async function startFakes(): Promise<Fakes> {
  const child = fork(fileURLToPath(new URL('./fakes-process.ts', import.meta.url)), [], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(child, 'message')) as [FakesReport];
  if (ready.type !== 'ready') throw new Error('fakes process did not start');
  let nextId = 0;
  return {
    ready,
    call(request, type) {
      const id = ++nextId;
      return new Promise((resolve) => {
        const onMessage = (report: FakesReport) => {
          if (report.type !== type || !('id' in report) || report.id !== id) return;
          child.off('message', onMessage);
          resolve(report as Extract<FakesReport, { type: typeof type }>);
        };
        child.on('message', onMessage);
        child.send({ ...request, id } as FakesRequest);
      });
    },
    async close() {
      child.send({ type: 'close' } satisfies FakesRequest);
      await once(child, 'exit');
    },
  };
}

/** Section 5 of `npm run bench`; what and why in the file comment. */
export async function measureThroughput({ quick, progress }: SectionOptions): Promise<SectionResult> {
  const levels = quick ? [100] : [100, 500, 1000];
  const repeats = quick ? 1 : 3;
  const fakes = await startFakes();
  // Warnings and errors the bot logs count as errors of the burst they happen in.
  const logged: string[] = [];
  const logger = createLogger('warn', { write: (line: string) => void logged.push(line) });
  let chatIds = 1_000_000;

  /** One burst against a fresh fake model and a fresh Poquan; the fakes' CPU time is recorded with it. */
  const measure = async (path: Burst['path'], conversations: number, label: string): Promise<Burst> => {
    const { llmUrl } = await fakes.call({ type: 'restart-llm', reply }, 'llm-restarted');
    const poquan = await createPoquan(
      loadConfig({
        STORE_URL: 'memory://',
        LLM_BASE_URL: llmUrl,
        LLM_API_KEY: 'sk-bench',
        LLM_MAX_RETRIES: '0',
        LLM_THINKING: 'off',
        SHOW_REASONING: 'off',
        ANSWER_CACHE_TTL_HOURS: '0',
        RATE_LIMIT_PER_MINUTE: '0',
        TELEGRAM_BOT_TOKEN: fakes.ready.telegramToken,
        TELEGRAM_API_ROOT: fakes.ready.telegramUrl,
      }),
      logger,
    );
    const adapter = path === 'telegram' ? await startTelegramAdapter(poquan) : undefined;
    const before = logged.length;
    const cpuBefore = (await fakes.call({ type: 'cpu' }, 'cpu')).cpuMs;
    const botCpuBefore = process.cpuUsage();
    let burst: Burst;
    try {
      if (path === 'core') {
        burst = await coreBurst(poquan, conversations, label);
      } else {
        const firstChatId = chatIds;
        chatIds += conversations;
        const { result, startRssBytes, peakRssBytes, eventLoopDelayP99Ms } = await observe(() =>
          fakes.call(
            { type: 'telegram-burst', firstChatId, chats: conversations, text: question, expect: expected },
            'telegram-done',
          ),
        );
        burst = {
          path,
          conversations,
          wallMs: result.wallMs,
          answered: result.answered,
          errors: result.chats - result.answered + result.wrongAnswers + result.failedCalls,
          errorDetails: [
            ...(result.failedCalls ? [`${result.failedCalls} Bot API calls refused`] : []),
            ...(result.wrongAnswers ? [`${result.wrongAnswers} wrong answers`] : []),
          ],
          startRssBytes,
          peakRssBytes,
          eventLoopDelayP99Ms,
          latencyMs: result.latencyMs,
          botCpuMs: 0,
          fakesCpuMs: 0,
        };
      }
    } finally {
      await adapter?.stop(5000);
      await poquan.close();
    }
    const botCpu = process.cpuUsage(botCpuBefore);
    burst.botCpuMs = (botCpu.user + botCpu.system) / 1000;
    burst.fakesCpuMs = (await fakes.call({ type: 'cpu' }, 'cpu')).cpuMs - cpuBefore;
    const logLines = logged.slice(before);
    burst.errors += logLines.length;
    burst.errorDetails.push(...logLines.slice(0, 5));
    return burst;
  };

  const results: Burst[] = [];
  try {
    for (const path of ['core', 'telegram'] as const) {
      progress(`${path}: warm-up`);
      await measure(path, 20, `${path}-warm-up`);
      for (const conversations of levels) {
        for (let repeat = 0; repeat < repeats; repeat++) {
          progress(`${path}: ${conversations} conversations (${repeat + 1}/${repeats})`);
          results.push(await measure(path, conversations, `${path}-${conversations}-${repeat}`));
        }
      }
    }
  } finally {
    await fakes.close();
  }
  // One row per path and level: the median run by answers per second, with its own RSS and delay.
  const rows = (['core', 'telegram'] as const).flatMap((path) =>
    levels.map((conversations) => {
      const runs = results.filter((r) => r.path === path && r.conversations === conversations);
      const perSecond = runs.map((r) => (r.answered / r.wallMs) * 1000);
      const medianRun = runs[perSecond.indexOf(median(perSecond))] as Burst;
      return { path, conversations, runs, perSecond: median(perSecond), medianRun };
    }),
  );
  const table: Table = {
    title: `Concurrent conversations (fakes in a child process; model streams ${[...(reply.content ?? '')].length} characters in ${reply.chunkChars}-character chunks ${reply.chunkDelayMs} ms apart; median of ${repeats} run(s))`,
    columns: [
      'path',
      'conversations',
      'answers/s',
      'wall time',
      'errors (all runs)',
      'answer latency p50 / p99',
      'RSS at start → peak',
      'event-loop delay p99',
      'bot CPU',
      'fakes CPU',
    ],
    rows: rows.map((row) => [
      row.path === 'core' ? 'core: answer()' : 'Telegram adapter',
      formatCount(row.conversations),
      row.perSecond.toFixed(0),
      formatMs(row.medianRun.wallMs),
      String(row.runs.reduce((sum, r) => sum + r.errors, 0)),
      `${formatMs(row.medianRun.latencyMs.p50)} / ${formatMs(row.medianRun.latencyMs.p99)}`,
      `${formatMiB(row.medianRun.startRssBytes)} → ${formatMiB(row.medianRun.peakRssBytes)}`,
      formatMs(row.medianRun.eventLoopDelayP99Ms),
      formatMs(row.medianRun.botCpuMs),
      formatMs(row.medianRun.fakesCpuMs),
    ]),
    notes: [
      'core: all answers started at once; latency from the start to each done event. Telegram: one private chat per conversation, all updates queued at once; latency from getUpdates handing an update out to its final sendMessage, wall time from the first hand-out to the last answer.',
      'Errors: exceptions, incomplete or wrong answers, chats left unanswered, Bot API calls the fake refused, and warnings or errors the bot logged. Rate limiting off, answer cache off, so every answer reaches the model.',
      `RSS: the bot process, after a full garbage collection at the start and its highest reading during the burst (sampled every 20 ms). Event-loop delay: monitorEventLoopDelay p99 minus its ${eventLoopResolutionMs} ms sampling interval.`,
      'Each burst runs against a fresh fake model (8 instances behind a round-robin TCP proxy) and a fresh Poquan (memory store). bot CPU / fakes CPU: CPU time each process spent during the burst; the bot near its wall time means its one thread was the limit.',
    ],
  };
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  const goals: Goal[] = [
    {
      goal: `no errors at ${levels.map(formatCount).join(', ')} concurrent conversations, core and Telegram`,
      measured: `${errors} errors in ${results.length} runs`,
      met: errors === 0,
    },
  ];
  return { tables: [table], goals, data: { reply, levels, repeats, runs: results } };
}
