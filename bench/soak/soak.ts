/**
 * `npm run soak`: 1,000 questions from 200 chats (Telegram private chats and groups, Discord channels and DMs)
 * against Poquan deployed as real processes of the compiled runtime — two Telegram webhook instances behind a
 * load balancer and one Discord process, sharing one redis-server — with 5% of questions injecting a model
 * fault and 5% a platform fault, three SIGKILLs of a random webhook instance and one of the Discord process,
 * each restarted at once. Passes when no question was lost, none answered twice, no preview was left frozen, no
 * private question reached another user's prompt, memory stayed bounded, nothing crashed and no user went past
 * the daily token budget by more than one answer. Loopback only; a few minutes; not part of `npm test`.
 *
 *   npm run soak                    the full run; soak.json and soak.md in a new temporary folder
 *   npm run soak -- --chats 20      a smaller run (still 5 questions per chat)
 *   npm run soak -- --fault-rate 0  no faults
 *   npm run soak -- --kills 0       no kills (a baseline); --kills N kills a webhook instance N times
 *   npm run soak -- --out DIR       results in DIR
 *   npm run soak -- --save          the full run, then its verdict into bench/results/summary.json
 *
 * The fakes and the simulated users run in a child process (bench/soak/world.ts); the Poquan processes are
 * started, killed and measured by bench/soak/fleet.ts. Needs redis-server on the PATH.
 */
import { fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createPoquan } from '../../src/composition-root.ts';
import { loadConfig } from '../../src/core/config.ts';
import { formatCost } from '../../src/core/cost.ts';
import { type AnswerRecord, dayOf } from '../../src/core/feedback.ts';
import { summarizeSpend } from '../../src/core/spend.ts';
import { createLogger } from '../../src/logging/logger.ts';
import buildDist from '../../test/build-dist.ts';
import { freePort } from '../../test/servers/free-port.ts';
import { removeCleanCwd } from '../../test/servers/poquan-env.ts';
import { planRedisTests, startRedisServer } from '../../test/servers/redis-server.ts';
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
import { createRandom } from '../synthetic-corpus.ts';
import { type Fleet, type KillRecord, startFleet } from './fleet.ts';
import {
  type AskedQuestion,
  type BudgetUse,
  classifyReply,
  defaultPlan,
  findPrivateLeaks,
  type HeapSample,
  judgeSoak,
  killSchedule,
  questionsIn,
  type SoakPlan,
} from './plan.ts';
import type { WorldMessage, WorldRequest } from './world.ts';

const { values } = parseArgs({
  options: {
    chats: { type: 'string' },
    'fault-rate': { type: 'string' },
    kills: { type: 'string' },
    out: { type: 'string' },
    save: { type: 'boolean', default: false },
  },
});
const plan: SoakPlan = {
  ...(values.chats ? scaledPlan(Number(values.chats)) : defaultPlan),
  ...(values['fault-rate'] ? { faultRate: Number(values['fault-rate']) } : {}),
  ...(values.kills ? kills(Number(values.kills)) : {}),
};
const save = values.save ?? false;
if (save && (values.chats || values['fault-rate'] || values.kills)) {
  console.error('--save keeps only the full default run: drop --chats, --fault-rate and --kills');
  process.exit(2);
}
const redis = planRedisTests(process.env);
if (redis.kind !== 'run') {
  console.error(
    'The soak needs redis-server on the PATH: install it (apt-get install redis-server, brew install redis).',
  );
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

/** `--kills N`: N kills of a webhook instance and, if N > 0, one of the Discord process. */
function kills(n: number): Pick<SoakPlan, 'webhookKills' | 'discordKills'> {
  if (!Number.isInteger(n) || n < 0) {
    console.error('--kills takes a whole number (0 for a run without kills)');
    process.exit(2);
  }
  return { webhookKills: n, discordKills: n > 0 ? 1 : 0 };
}

// Each Poquan process runs the compiled runtime: rebuild it if a source changed since the last build.
buildDist();

const world = fork(fileURLToPath(new URL('./world.ts', import.meta.url)), [JSON.stringify(plan)], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const tell = (request: WorldRequest) => world.send(request);
const waiters = new Map<WorldMessage['type'], (message: WorldMessage) => void>();
const listeners: Array<(message: WorldMessage) => void> = [];
world.on('message', (message: WorldMessage) => {
  for (const listener of listeners) listener(message);
  const waiter = waiters.get(message.type);
  waiters.delete(message.type);
  waiter?.(message);
});
const next = <T extends WorldMessage['type']>(type: T): Promise<Extract<WorldMessage, { type: T }>> =>
  new Promise((resolve) => waiters.set(type, resolve as (message: WorldMessage) => void));

const machine = describeMachine();
const ready = await next('ready');
const redisServer = await startRedisServer();
let fleet: Fleet | undefined;
const shutDown = async () => {
  await fleet?.close();
  await redisServer.stop();
  removeCleanCwd();
};
try {
  fleet = await startFleet({
    knowledgeDir,
    redisUrl: redisServer.url,
    llmUrl: ready.llmUrl,
    telegram: ready.telegram,
    discord: ready.discord,
    userDailyTokens: plan.userDailyTokens,
    webhookPorts: [await freePort(), await freePort()],
  });
} catch (error) {
  console.error(`The soak could not start Poquan: ${error instanceof Error ? error.message : String(error)}`);
  await shutDown();
  world.kill();
  process.exit(1);
}
const running = fleet;

const heap: HeapSample[] = [];
const sampleHeap = async (questionsDone: number) => {
  heap.push(...(await running.sampleHeap(questionsDone)));
};
await sampleHeap(0);
const total = questionsIn(plan);
const runStartedAt = Date.now();
const runStarted = performance.now();

/**
 * The kills, dealt as the questions asked pass each one's mark: webhook kills one after another (so one
 * instance keeps serving while the other restarts), the Discord kill independently of them.
 */
const schedule = killSchedule(plan, createRandom(plan.seed + 1));
const pickInstance = createRandom(plan.seed + 2);
const killsDone: KillRecord[] = [];
const killing = { webhook: Promise.resolve(), discord: Promise.resolve() };
const tally = { asked: 0, done: 0 };
const killNow = async (target: 'webhook' | 'discord') => {
  const at = performance.now() - runStarted;
  const { asked, done } = tally;
  const name = target === 'discord' ? 'discord' : pickInstance() < 0.5 ? 'webhook-1' : 'webhook-2';
  process.stderr.write(`soak: SIGKILL ${name} after ${asked} questions asked, ${asked - done} unsettled\n`);
  if (target === 'discord') {
    // Users stop asking on Discord while its bot is offline: what Discord drops meanwhile no bot can answer.
    tell({ type: 'pause-discord' });
    await next('discord-paused');
  }
  try {
    const { restartMs, failedStarts } = await running.killAndRestart(name);
    killsDone.push({ target: name, at, asked, unsettled: asked - done, restartMs, failedStarts });
  } catch (error) {
    killsDone.push({ target: name, at, asked, unsettled: asked - done, failedStarts: [String(error)] });
    throw error;
  } finally {
    // Without a Discord process the users' questions go unanswered, which the verdict counts.
    if (target === 'discord') tell({ type: 'resume-discord' });
  }
};
let heapSampling: Promise<void> = Promise.resolve();
listeners.push((message) => {
  if (message.type === 'tally') {
    tally.asked = message.questionsAsked;
    tally.done = message.questionsDone;
    while (schedule[0] && schedule[0].afterAsked <= tally.asked) {
      const { target } = schedule.shift() as (typeof schedule)[number];
      killing[target] = killing[target]
        .then(() => killNow(target))
        .catch((error: unknown) => {
          // The verdict shows what a process that did not come back cost; the run goes on.
          console.error(`soak: restart after a SIGKILL failed: ${String(error).slice(0, 2000)}`);
        });
    }
  } else if (message.type === 'progress') {
    heapSampling = heapSampling.then(() => sampleHeap(message.questionsDone));
    process.stderr.write(`soak: ${message.questionsDone}/${total} questions answered\n`);
  }
});

tell({ type: 'run' });
const { wallMs } = await next('finished');
await Promise.all([killing.webhook, killing.discord]);
await heapSampling;
await sampleHeap(total);
const exitCodes = await running.stop();
const logs = running.logs();
/** Every process life's output, kept for the results folder. */
const outputs = running.members.flatMap((member) =>
  member.lives.map((life, i) => ({ file: `${member.name}-${i + 1}.log`, lines: life.lines })),
);
const unexpectedExits = running.unexpectedExits();

// Every delivered answer, with its usage, cost and asker hash, as `/stats` and the feedback report read them.
const reader = await createPoquan(
  loadConfig({
    KNOWLEDGE_DIR: knowledgeDir,
    STORE_URL: redisServer.url,
    STORE_NAMESPACE: 'soak',
    LLM_BASE_URL: ready.llmUrl,
    LLM_API_KEY: 'sk-soak',
  }),
  createLogger('silent'),
);
const runDays = [...new Set([dayOf(runStartedAt), dayOf(Date.now())])];
const records: AnswerRecord[] = (
  await Promise.all(runDays.map((day) => reader.feedback.listAnswers(day)))
).flat();
const prices = reader.prices;
await reader.close();
await shutDown();
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
await new Promise((resolve) => world.once('exit', resolve));

const errorLogLines = logs.filter((line) => (line.level ?? 0) >= 50);
const warnLogLines = logs.filter((line) => line.level === 40);
const checks = judgeSoak({
  plan,
  questions: report.questions,
  prompts: report.prompts,
  heap,
  unexpectedExits: unexpectedExits.length,
  errorLogLines: errorLogLines.length,
  budgetUse,
});

/**
 * The kills that came while a question's user waited for its final reply, until it came or they gave up (run
 * times; the world's clock starts with the run, within milliseconds of this one).
 */
const unsettledAtKills = (q: AskedQuestion) =>
  killsDone
    .filter((kill) => q.askedAt <= kill.at && (q.settledAt ?? q.askedAt + plan.questionTimeoutMs) > kill.at)
    .map((kill) => kill.target);
const lostQuestions = report.questions.filter((q) => q.finalReplies.length === 0);

/** Questions behind a failed check, with what was injected when they were asked and what they got. */
const failing = report.questions
  .filter(
    (q) =>
      q.finalReplies.length !== 1 ||
      q.frozenPreviews.length > 0 ||
      q.finalReplies.some((r) => classifyReply(r) === 'internal-error'),
  )
  .map((q) => ({
    ...q,
    unsettledAtKills: unsettledAtKills(q),
    finalReplies: q.finalReplies.map((r) => r.slice(0, 300)),
    frozenPreviews: q.frozenPreviews.map((r) => r.slice(0, 300)),
  }));
const leaks = findPrivateLeaks(report.questions, report.prompts).map((leak) => ({
  private: leak.privateQuestion.id,
  owner: leak.privateQuestion.asker,
  inPromptFor: leak.answering?.id ?? null,
  of: leak.answering?.asker ?? null,
}));
const outcomes = new Map<string, number>();
for (const question of report.questions) {
  const kind =
    question.finalReplies.length === 1
      ? classifyReply(question.finalReplies[0] as string)
      : question.finalReplies.length === 0
        ? 'none (lost)'
        : 'several';
  outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
}
const kinds = new Map<string, number>();
for (const question of report.questions) kinds.set(question.kind, (kinds.get(question.kind) ?? 0) + 1);
const waits = report.questions
  .filter((q): q is AskedQuestion & { settledAt: number } => q.settledAt !== undefined)
  .map((q) => q.settledAt - q.askedAt)
  .sort((a, b) => a - b);
const percentile = (p: number) =>
  waits[Math.min(waits.length - 1, Math.floor((p / 100) * waits.length))] ?? 0;

/** Warning log lines counted by message, most frequent first. */
function warningsByMessage(lines: Array<{ msg?: string }>): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const { msg = '' } of lines) counts.set(msg, (counts.get(msg) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (share: number) => `${Math.round(share * 100)}%`;
const afterWarmUp = heap.filter((sample, i) => heap.findIndex((s) => s.process === sample.process) !== i);
const tables: Table[] = [
  {
    title: `Soak: ${total} questions in ${total / plan.questionsPerChat} chats, ${percent(plan.faultRate)} model and ${percent(plan.faultRate)} platform faults, ${plan.webhookKills} + ${plan.discordKills} SIGKILLs`,
    columns: ['check', 'measured', 'passed'],
    rows: checks.map((c) => [c.check, c.measured, c.passed ? 'yes' : '**no**']),
    notes: [
      `Chats: ${plan.telegramPrivateChats} Telegram private chats, ${plan.telegramGroups} Telegram groups (two members take turns; questions mention the bot), ${plan.discordChannels} Discord channels (two users take turns: /ask, /ask private:true, an @mention, or a reply to the other user's latest public answer), ${plan.discordDms} Discord DMs; ${plan.questionsPerChat} questions each from test/fixtures/qa.jsonl (English and Chinese), each tagged with its id so prompts can be traced, asked one after another with ${plan.thinkMs[0] / 1000}–${plan.thinkMs[1] / 1000} s between a reply and the next question; first questions spread over ${plan.startSpreadMs / 1000} s. Seed ${plan.seed}.`,
      `Poquan as real processes of the compiled runtime (node bin/poquan.js start): two Telegram webhook instances behind a round-robin loopback load balancer and one Discord process, sharing one redis-server; the shipped knowledge, answer cache and rate limit off (every question reaches the model), LLM_TIMEOUT_MS=3000, BUDGET_USER_DAILY_TOKENS=${plan.userDailyTokens}. The fakes and the users run in a child process; the fake Telegram posts each update to the webhook and re-posts it ${0.5} s after a failed or unanswered POST.`,
      plan.webhookKills + plan.discordKills === 0
        ? 'No kills (--kills 0): the baseline of the same deployment.'
        : `Kills: ${plan.webhookKills} SIGKILLs of a random webhook instance and ${plan.discordKills} of the Discord process, each after a random number of questions asked (15–85% of the run), each restarted at once on the same port. While the Discord process is down its users wait before asking (Discord drops what is sent to an offline bot); questions already asked stay as they are. The Discord kill waits until what users sent has arrived and each /ask has been acknowledged or its 3-second window is over: an /ask its process dies before acknowledging is lost to any bot (Discord tells the asker the application did not respond and never sends it again).`,
      'Lost: no final reply by the end. Answered twice: more than one final reply. A reply is a Telegram message of the bot replying to the question (in private chats, the bot\'s messages before the next question); on Discord the interaction\'s original response and follow-ups, the messages the bot posted in the channel before the next question, and for a private question a fallback DM; deleted messages excluded. Frozen preview: such a message whose last content is still in progress (Telegram: the "💭 Thinking…" reasoning preview and no vote buttons; Discord: empty, "💭 Thinking…" or ending in the cursor); the original response of an interaction whose token a fault expired is not counted (Discord shows it as failed; no bot can edit it).',
      "Private turns leaked: a prompt the fake model received that carries a /ask private:true question's tag while answering another user's question (or an untagged one).",
      'Heap: heapUsed of each Poquan process after a full garbage collection (through its inspector), as it becomes ready and every tenth of the questions; within each process life, the first sample is warm-up and not compared.',
    ],
  },
  {
    title: 'Soak: what the users got, and what was injected',
    columns: ['what', 'count'],
    rows: [
      ...[...kinds].map(([kind, n]) => [`asked as ${kind}`, String(n)]),
      ...[...outcomes].map(([kind, n]) => [`final reply: ${kind}`, String(n)]),
      [
        'frozen previews (messages)',
        String(report.questions.reduce((sum, q) => sum + q.frozenPreviews.length, 0)),
      ],
      ...Object.entries(report.injected)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, n]) => [`injected: ${kind}`, String(n)]),
      ...killsDone.map((kill) => [
        `SIGKILL ${kill.target} at ${seconds(kill.at)} (${kill.asked} questions asked, ${kill.unsettled} of them unsettled)`,
        kill.restartMs === undefined
          ? '**did not start again** (3 tries)'
          : `ready again in ${seconds(kill.restartMs)}${kill.failedStarts.length > 0 ? ` (after ${kill.failedStarts.length} failed starts)` : ''}`,
      ]),
      [
        'lost questions that were waiting for their reply at a kill',
        `${lostQuestions.filter((q) => unsettledAtKills(q).length > 0).length} of ${lostQuestions.length}`,
      ],
      [
        'lost /asks the bot never acknowledged (Discord said the application did not respond)',
        `${lostQuestions.filter((q) => q.acknowledged === false).length} of ${lostQuestions.length}`,
      ],
      ['model requests', String(report.prompts.length)],
      [
        'webhook POSTs · failed or unanswered (re-posted)',
        `${report.webhookDeliveries.total} · ${report.webhookDeliveries.failed}`,
      ],
      [
        'answers recorded · tokens · cache hits of prompt',
        `${spend.answers} · ${spend.tokens} · ${spend.cacheHitShare === null ? '—' : `${(spend.cacheHitShare * 100).toFixed(1)}%`}`,
      ],
      [
        `total cost at ${prices ? `the preset's prices (read ${prices.readOn})` : 'unknown prices'}`,
        spend.cost.length > 0 ? spend.cost.map(formatCost).join(' + ') : 'unknown',
      ],
      ...warningsByMessage(warnLogLines).map(([msg, n]) => [`warning logged: ${msg}`, String(n)]),
      ['errors logged', String(errorLogLines.length)],
      [
        'exit codes after the final SIGTERM',
        Object.entries(exitCodes)
          .map(([name, code]) => `${name} ${code}`)
          .join(', '),
      ],
      ['wall time', seconds(wallMs)],
      [
        'question → final reply, p50 / p90 / p99',
        `${(percentile(50) / 1000).toFixed(1)} / ${(percentile(90) / 1000).toFixed(1)} / ${(percentile(99) / 1000).toFixed(1)} s`,
      ],
      [
        'heap after GC, highest of any process after warm-up',
        formatMiB(Math.max(0, ...afterWarmUp.map((h) => h.heapUsedBytes))),
      ],
      ['RSS, highest of any process', formatMiB(Math.max(0, ...heap.map((h) => h.rssBytes)))],
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
for (const leak of leaks.slice(0, 5)) console.error(JSON.stringify({ leak }));
for (const exit of unexpectedExits) console.error(JSON.stringify({ unexpectedExit: exit }));
for (const kill of killsDone)
  for (const failure of kill.failedStarts) console.error(`start after a SIGKILL failed: ${failure}`);
for (const line of errorLogLines.slice(0, 5)) console.error(JSON.stringify(line).slice(0, 2000));
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
    `${JSON.stringify({ ...run, kills: killsDone, exitCodes, heap, spend, failing, leaks, unexpectedExits, questions: report.questions.map(({ finalReplies, frozenPreviews, ...q }) => ({ ...q, replies: finalReplies.length, frozen: frozenPreviews.length })) }, null, 2)}\n`,
  );
  await mkdir(join(outDir, 'logs'), { recursive: true });
  for (const output of outputs)
    await writeWhole(join(outDir, 'logs', output.file), `${output.lines.join('\n')}\n`);
  await writeWhole(
    join(outDir, 'soak.md'),
    [machineTable(machine), ...tables].map(renderMarkdown).join('\n\n'),
  );
  console.log(
    `Results: ${join(outDir, 'soak.json')} and soak.md (for BENCHMARKS.md); each process's output in logs/.`,
  );
  if (save) {
    await saveSummaryPart(savedResultsDir, 'soak', soakSummary(run));
    console.log('Saved the soak part of bench/results/summary.json.');
  }
}
console.log(failed.length === 0 ? 'Soak passed.' : `Soak FAILED: ${failed.map((c) => c.check).join('; ')}`);
process.exit(failed.length === 0 ? 0 : 1);
