/**
 * `npm run soak`: 1,000 questions from 200 chats (Telegram private chats and groups, Discord channels and
 * DMs) against one Poquan — both adapters, a SQLite store, the shipped knowledge — with 5% of questions
 * injecting a model fault and 5% a platform fault, and a per-user daily token budget low enough to bind. Passes
 * when every question got exactly one final reply, the heap stays bounded, nothing went unhandled and no user
 * went past the budget by more than one answer's tokens; it reports the run's total cost at DeepSeek's prices.
 * Loopback only; a few minutes; not part of `npm test`.
 *
 *   npm run soak                 the full run; soak.json and soak.md in a new temporary folder
 *   npm run soak -- --chats 20   a smaller run (still 5 questions per chat)
 *   npm run soak -- --fault-rate 0   no faults (a baseline)
 *   npm run soak -- --out DIR    results in DIR
 *   npm run soak -- --save       the full run, then its verdict into bench/results/summary.json
 *
 * The fakes and the simulated users run in a child process (bench/soak/world.ts), so the memory measured
 * here is the bot's own.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDiscordClient } from '../../src/adapters/discord/index.ts';
import { startTelegramAdapter } from '../../src/adapters/telegram/index.ts';
import { loadConfig } from '../../src/core/config.ts';
import { formatCost } from '../../src/core/cost.ts';
import { type AnswerRecord, dayOf } from '../../src/core/feedback.ts';
import { createLogger } from '../../src/core/logger.ts';
import { summarizeSpend } from '../../src/core/spend.ts';
import { createPoquan } from '../../src/poquan.ts';
import { collectGarbage } from '../heap.ts';
import { knowledgeDir } from '../inputs.ts';
import { describeMachine, machineTable } from '../machine.ts';
import { formatMiB, renderMarkdown, renderText, type Table } from '../report.ts';
import {
  outputFolder,
  type SoakRun,
  savedResultsDir,
  saveSummaryPart,
  soakSummary,
  writeWhole,
} from '../saved-results.ts';
import {
  type AskedQuestion,
  type BudgetUse,
  classifyReply,
  defaultPlan,
  type HeapSample,
  judgeSoak,
  type SoakPlan,
} from './plan.ts';
import type { WorldMessage, WorldRequest } from './world.ts';

const { values } = parseArgs({
  options: {
    chats: { type: 'string' },
    'fault-rate': { type: 'string' },
    out: { type: 'string' },
    save: { type: 'boolean', default: false },
  },
});
const plan: SoakPlan = {
  ...(values.chats ? scaledPlan(Number(values.chats)) : defaultPlan),
  ...(values['fault-rate'] ? { faultRate: Number(values['fault-rate']) } : {}),
};
const save = values.save ?? false;
if (save && (values.chats || values['fault-rate'])) {
  console.error('--save keeps only the full default run: drop --chats and --fault-rate');
  process.exit(2);
}
const command = ['npm run soak', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
  ' ',
);
const startedAt = new Date().toISOString();

/** The default plan's mix of chats, scaled down to about `chats` chats in all. */
function scaledPlan(chats: number): SoakPlan {
  if (!Number.isInteger(chats) || chats < 4) {
    console.error('--chats takes a whole number of at least 4');
    process.exit(2);
  }
  const share = (n: number) => Math.max(1, Math.round((n * chats) / 200));
  return {
    ...defaultPlan,
    telegramPrivateChats: share(defaultPlan.telegramPrivateChats),
    telegramGroups: share(defaultPlan.telegramGroups),
    discordChannels: share(defaultPlan.discordChannels),
    discordDms: share(defaultPlan.discordDms),
    startSpreadMs: Math.max(2000, (defaultPlan.startSpreadMs * chats) / 200),
  };
}

let unhandledRejections = 0;
let uncaughtExceptions = 0;
process.on('unhandledRejection', (reason) => {
  unhandledRejections++;
  console.error('unhandled rejection:', reason);
});
process.on('uncaughtException', (error) => {
  uncaughtExceptions++;
  console.error('uncaught exception:', error);
});

const world = fork(fileURLToPath(new URL('./world.ts', import.meta.url)), [JSON.stringify(plan)], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const tell = (request: WorldRequest) => world.send(request);
const next = async <T extends WorldMessage['type']>(type: T): Promise<Extract<WorldMessage, { type: T }>> => {
  for (;;) {
    const [message] = (await once(world, 'message')) as [WorldMessage];
    if (message.type === type) return message as Extract<WorldMessage, { type: T }>;
  }
};

const machine = describeMachine();
const ready = await next('ready');
const dataDir = await mkdtemp(join(tmpdir(), 'poquan-soak-'));
const logLines: string[] = [];
const logger = createLogger('info', { write: (line: string) => void logLines.push(line) });
const poquan = await createPoquan(
  loadConfig({
    KNOWLEDGE_DIR: knowledgeDir,
    STORE_URL: `sqlite://${join(dataDir, 'poquan.sqlite')}`,
    LLM_BASE_URL: ready.llmUrl,
    LLM_API_KEY: 'sk-soak',
    LLM_TIMEOUT_MS: '3000',
    // Every question reaches the model: 1,000 questions drawn from 45 would otherwise mostly hit the cache.
    ANSWER_CACHE_TTL_HOURS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    BUDGET_USER_DAILY_TOKENS: String(plan.userDailyTokens),
    TELEGRAM_BOT_TOKEN: ready.telegram.token,
    TELEGRAM_API_ROOT: ready.telegram.url,
    DISCORD_TOKEN: ready.discord.token,
    DISCORD_APPLICATION_ID: ready.discord.applicationId,
    DISCORD_API_BASE: ready.discord.apiBase,
  }),
  logger,
);
const telegram = await startTelegramAdapter(poquan);
const discord = createDiscordClient(poquan);
await discord.start();

const heap: HeapSample[] = [];
const sampleHeap = (questionsDone: number) => {
  collectGarbage();
  const { heapUsed, rss } = process.memoryUsage();
  heap.push({ questionsDone, heapUsedBytes: heapUsed, rssBytes: rss });
};
sampleHeap(0);
const total =
  (plan.telegramPrivateChats + plan.telegramGroups + plan.discordChannels + plan.discordDms) *
  plan.questionsPerChat;
world.on('message', (message: WorldMessage) => {
  if (message.type !== 'progress') return;
  sampleHeap(message.questionsDone);
  process.stderr.write(`soak: ${message.questionsDone}/${total} questions answered\n`);
});

const runStartedAt = Date.now();
tell({ type: 'run' });
const { wallMs } = await next('finished');
sampleHeap(total);
await telegram.stop(10_000);
await discord.stop(10_000);
// Every delivered answer, with its usage, cost and asker hash, as `/stats` and the feedback report read them.
const runDays = [...new Set([dayOf(runStartedAt), dayOf(Date.now())])];
const records: AnswerRecord[] = (
  await Promise.all(runDays.map((day) => poquan.feedback.listAnswers(day)))
).flat();
const budgetRefusals = (await poquan.metrics.budgetRefusals.get()).values.reduce(
  (sum, v) => sum + v.value,
  0,
);
await poquan.close();
const spend = summarizeSpend(records);
/** Tokens per asker as the budget counts them (prompt + completion, cache hits in full), and their largest answer. */
const budgetUse: BudgetUse[] = [
  ...records
    .reduce((users, record) => {
      const tokens = record.usage ? record.usage.promptTokens + record.usage.completionTokens : 0;
      const user = users.get(record.askerHash ?? record.conversationId) ?? { tokens: 0, largestAnswer: 0 };
      users.set(record.askerHash ?? record.conversationId, {
        tokens: user.tokens + tokens,
        largestAnswer: Math.max(user.largestAnswer, tokens),
      });
      return users;
    }, new Map<string, BudgetUse>())
    .values(),
];
tell({ type: 'report' });
const report = await next('report');
tell({ type: 'close' });
await once(world, 'exit');
await rm(dataDir, { recursive: true, force: true });

const errorLogLines = logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
const warnLogLines = logLines.filter((line) => (JSON.parse(line) as { level: number }).level === 40);
const checks = judgeSoak({
  plan,
  questions: report.questions,
  heap,
  unhandledRejections,
  uncaughtExceptions,
  errorLogLines: errorLogLines.length,
  budgetUse,
});

/** Questions behind a failed check, with what was injected when they were asked and what they got. */
const failing = report.questions
  .filter(
    (q) => q.finalReplies.length !== 1 || q.finalReplies.some((r) => classifyReply(r) === 'internal-error'),
  )
  .map((q) => ({ ...q, finalReplies: q.finalReplies.map((r) => r.slice(0, 300)) }));
const outcomes = new Map<string, number>();
for (const question of report.questions) {
  const kind =
    question.finalReplies.length === 1
      ? classifyReply(question.finalReplies[0] as string)
      : 'none or several';
  outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
}
const waits = report.questions
  .filter((q): q is AskedQuestion & { settledAt: number } => q.settledAt !== undefined)
  .map((q) => q.settledAt - q.askedAt)
  .sort((a, b) => a - b);
const percentile = (p: number) =>
  waits[Math.min(waits.length - 1, Math.floor((p / 100) * waits.length))] ?? 0;

/** Warning log lines counted by message, most frequent first. */
function warningsByMessage(lines: string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const { msg } = JSON.parse(line) as { msg: string };
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

const tables: Table[] = [
  {
    title: `Soak: ${total} questions in ${total / plan.questionsPerChat} chats, ${Math.round(plan.faultRate * 100)}% model and ${Math.round(plan.faultRate * 100)}% platform faults`,
    columns: ['check', 'measured', 'passed'],
    rows: checks.map((c) => [c.check, c.measured, c.passed ? 'yes' : '**no**']),
    notes: [
      `Chats: ${plan.telegramPrivateChats} Telegram private chats, ${plan.telegramGroups} Telegram groups (questions mention the bot), ${plan.discordChannels} Discord channels (/ask), ${plan.discordDms} Discord DMs; ${plan.questionsPerChat} questions each from test/fixtures/qa.jsonl (English and Chinese), asked one after another with ${plan.thinkMs[0] / 1000}–${plan.thinkMs[1] / 1000} s between a reply and the next question; first questions spread over ${plan.startSpreadMs / 1000} s. Seed ${plan.seed}.`,
      `One Poquan process with both adapters at their real default cadence, a SQLite store, the shipped knowledge, answer cache and rate limit off (every question reaches the model), LLM_TIMEOUT_MS=3000, BUDGET_USER_DAILY_TOKENS=${plan.userDailyTokens}. The fakes and the users run in a child process; in each Telegram group two members take turns.`,
      'Budget check: tokens per user summed from the recorded answers (prompt + completion, as the budget counts them); a user may end above the budget only by the answer that was allowed while they were still under it.',
      'A final reply: a Telegram message of the bot between the question and the next one (deleted messages excluded); on Discord, the interaction\'s original response, its follow-ups and any message the bot posted in the channel meanwhile, not counting one still in progress (empty, "thinking…" or ending in the cursor).',
      'Heap: heapUsed of the bot process after a full garbage collection, before the first question and after every 100 answered; the first sample (before any question) is warm-up and not compared.',
    ],
  },
  {
    title: 'Soak: what the users got, and what was injected',
    columns: ['what', 'count'],
    rows: [
      ...[...outcomes].map(([kind, n]) => [`final reply: ${kind}`, String(n)]),
      ...Object.entries(report.injected)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, n]) => [`injected: ${kind}`, String(n)]),
      ['model requests', String(report.modelRequests)],
      ['questions refused by the per-user budget', String(budgetRefusals)],
      [
        'answers recorded · tokens · cache hits of prompt',
        `${spend.answers} · ${spend.tokens} · ${spend.cacheHitShare === null ? '—' : `${(spend.cacheHitShare * 100).toFixed(1)}%`}`,
      ],
      [
        `total cost at ${poquan.prices ? `the preset's prices (read ${poquan.prices.readOn})` : 'unknown prices'}`,
        spend.cost.length > 0 ? spend.cost.map(formatCost).join(' + ') : 'unknown',
      ],
      [
        'cost per answered question',
        spend.cost.length > 0 && spend.answers > 0
          ? spend.cost.map((c) => formatCost({ ...c, amount: c.amount / spend.answers })).join(' + ')
          : 'unknown',
      ],
      ...warningsByMessage(warnLogLines).map(([msg, n]) => [`warning logged: ${msg}`, String(n)]),
      ['errors logged', String(errorLogLines.length)],
      ['wall time', `${(wallMs / 1000).toFixed(1)} s`],
      [
        'question → final reply, p50 / p90 / p99',
        `${(percentile(50) / 1000).toFixed(1)} / ${(percentile(90) / 1000).toFixed(1)} / ${(percentile(99) / 1000).toFixed(1)} s`,
      ],
      [
        'heap after GC: first → highest → last',
        `${formatMiB(heap[1]?.heapUsedBytes ?? 0)} → ${formatMiB(Math.max(...heap.slice(1).map((h) => h.heapUsedBytes)))} → ${formatMiB(heap.at(-1)?.heapUsedBytes ?? 0)}`,
      ],
      [
        'RSS: first → highest → last',
        `${formatMiB(heap[1]?.rssBytes ?? 0)} → ${formatMiB(Math.max(...heap.map((h) => h.rssBytes)))} → ${formatMiB(heap.at(-1)?.rssBytes ?? 0)}`,
      ],
    ],
    notes: [
      'Final reply kinds: answer (cites a passage), partial (kept with the ⚠️ note), not-covered (the out-of-scope questions of the fixture), budget-refused (the user’s daily budget was used up), model-error (one sentence saying what failed at the model), internal-error (the "something went wrong on my side" sentence).',
      "A fault is injected when a question is asked and hits the next matching call, which may be another chat's: the model fault is the next model request's reply, the platform fault the next Bot API or REST call of that kind.",
    ],
  },
];

const failed = checks.filter((c) => !c.passed);
console.log([machineTable(machine), ...tables].map(renderText).join('\n'));
for (const q of failing.slice(0, 10)) console.error(JSON.stringify(q));
for (const line of errorLogLines.slice(0, 5)) console.error(line.slice(0, 2000));
{
  const outDir = await outputFolder(values.out, 'soak-results');
  await mkdir(outDir, { recursive: true });
  const run: SoakRun = {
    command,
    machine,
    startedAt,
    plan,
    wallMs,
    checks,
    outcomes: Object.fromEntries(outcomes),
    injected: report.injected,
  };
  await writeWhole(
    join(outDir, 'soak.json'),
    `${JSON.stringify({ ...run, heap, spend, budgetRefusals, failing, questions: report.questions.map(({ finalReplies, ...q }) => ({ ...q, replies: finalReplies.length })) }, null, 2)}\n`,
  );
  await writeWhole(
    join(outDir, 'soak.md'),
    [machineTable(machine), ...tables].map(renderMarkdown).join('\n\n'),
  );
  console.log(`Results: ${join(outDir, 'soak.json')} and soak.md (for BENCHMARKS.md).`);
  if (save) {
    await saveSummaryPart(savedResultsDir, 'soak', soakSummary(run));
    console.log('Saved the soak part of bench/results/summary.json.');
  }
}
console.log(failed.length === 0 ? 'Soak passed.' : `Soak FAILED: ${failed.map((c) => c.check).join('; ')}`);
process.exit(failed.length === 0 ? 0 : 1);
