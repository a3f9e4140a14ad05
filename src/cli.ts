import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { askAsCli } from './adapters/cli/ask-question.ts';
import { runChat } from './adapters/cli/chat.ts';
import { renderFeedbackReportCsv, renderFeedbackReportForTerminal } from './adapters/cli/feedback-report.ts';
import { collectAnswerJson, printAnswerStream } from './adapters/cli/print-answer.ts';
import { passageToJson, renderPassagesForTerminal, terminalStyle } from './adapters/cli/render.ts';
import { type Config, loadConfig } from './core/config.ts';
import { ConfigError, describeErrorForUser, InputError, LlmError } from './core/errors.ts';
import { evaluateCase, readQaFile, summarizeEvaluation } from './core/evaluate.ts';
import { buildFeedbackReport, parseReportRange } from './core/feedback-report.ts';
import { createLogger } from './core/logger.ts';
import { cleanQuestion } from './core/question.ts';
import { createPoquan, type Poquan, poquanVersion } from './poquan.ts';

// `poquan … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const style = terminalStyle(Boolean(process.stdout.isTTY), Boolean(process.env.NO_COLOR));
const output = { out: process.stdout, err: process.stderr, style };

/** A question turned away by a budget or the rate limit; `poquan ask` exits with code 3 and its sentence. */
class LimitReachedError extends Error {
  override name = 'LimitReachedError';
}

function readConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return loadConfig(process.env);
}

async function withPoquan<T>(run: (poquan: Poquan) => Promise<T>): Promise<T> {
  const config = readConfig();
  const poquan = await createPoquan(config, createLogger(config.logLevel ?? 'warn'));
  try {
    return await run(poquan);
  } finally {
    await poquan.close();
  }
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50)
    throw new InvalidArgumentError('must be a whole number from 1 to 50');
  return n;
}

async function ask(words: string[], options: { json?: boolean; conversation?: string }): Promise<void> {
  await withPoquan(async (poquan) => {
    const question = cleanQuestion(words.join(' '), poquan.config.maxQuestionChars);
    const conversationId = `cli:${options.conversation ?? `once-${randomUUID()}`}`;
    const asked = await askAsCli(poquan, question, conversationId);
    if ('refused' in asked) throw new LimitReachedError(asked.refused);
    const { events } = asked;
    if (options.json) {
      process.stdout.write(`${JSON.stringify(await collectAnswerJson(events))}\n`);
    } else {
      await printAnswerStream(events, output);
    }
  });
}

async function retrieve(words: string[], options: { json?: boolean; k: number }): Promise<void> {
  await withPoquan(async (poquan) => {
    const retrieveOne = (query: string) => {
      const question = cleanQuestion(query, poquan.config.maxQuestionChars);
      return { query: question, passages: poquan.retriever().retrievePassages(question, options.k) };
    };
    if (words.length > 0) {
      const { query, passages } = retrieveOne(words.join(' '));
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ query, passages: passages.map(passageToJson) })}\n`
          : renderPassagesForTerminal(passages, style),
      );
      return;
    }
    // Batch mode: one question per stdin line, one JSON line out per question.
    for await (const line of createInterface({ input: process.stdin, terminal: false })) {
      if (!line.trim()) continue;
      try {
        const { query, passages } = retrieveOne(line);
        process.stdout.write(`${JSON.stringify({ query, passages: passages.map(passageToJson) })}\n`);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        process.stdout.write(`${JSON.stringify({ query: line, error: error.message })}\n`);
      }
    }
  });
}

async function evaluate(options: { qa: string; k: number; json?: boolean }): Promise<void> {
  await withPoquan(async (poquan) => {
    const cases = await readQaFile(options.qa);
    const bar = new SingleBar({
      format: 'evaluating [{bar}] {value}/{total}',
      stream: process.stderr,
      hideCursor: true,
    });
    if (!options.json) bar.start(cases.length, 0);
    const results = cases.map((qa) => {
      const result = evaluateCase(poquan.retriever(), qa, options.k);
      if (!options.json) bar.increment();
      return result;
    });
    if (!options.json) bar.stop();
    const report = summarizeEvaluation(results, options.k);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    const rows = [['all', report.overall] as const, ...Object.entries(report.byLanguage)].map(
      ([lang, s]) =>
        `  ${lang.padEnd(4)} ${String(s.questions).padStart(3)} questions  recall@1 ${pct(s.recallAt1).padStart(6)}  recall@${options.k} ${pct(s.recallAtK).padStart(6)}  MRR ${s.mrr.toFixed(3)}`,
    );
    const misses = results.filter((r) => !r.passed);
    process.stdout.write(
      [
        `Retrieval on ${options.qa} (k=${options.k}, knowledge ${poquan.knowledge().version})`,
        ...rows,
        `  out of scope: ${report.outOfScope.rejected}/${report.outOfScope.questions} rejected (${pct(report.outOfScope.rejectionRate)})`,
        misses.length
          ? `Misses:\n${misses.map((m) => `  - ${m.q}${m.outOfScope ? ` (out of scope, ${m.retrieved} passages retrieved)` : ''}`).join('\n')}`
          : 'No misses.',
        '',
      ].join('\n'),
    );
  });
}

async function feedbackReport(options: { from?: string; to?: string; json?: boolean; csv?: boolean }) {
  if (options.json && options.csv) throw new InputError('Choose one of --json and --csv.');
  const range = parseReportRange(options, Date.now());
  await withPoquan(async (poquan) => {
    const passages = new Map(poquan.knowledge().passages.map((passage) => [passage.id, passage]));
    const report = await buildFeedbackReport(poquan.feedback, range, {
      describePassage: (id) => passages.get(id),
    });
    process.stdout.write(
      options.json
        ? `${JSON.stringify(report)}\n`
        : options.csv
          ? renderFeedbackReportCsv(report)
          : renderFeedbackReportForTerminal(report, style),
    );
  });
}

async function chat(options: { conversation?: string }): Promise<void> {
  await withPoquan((poquan) =>
    runChat(poquan, process.stdin, output, `cli:chat:${options.conversation ?? userInfo().username}`),
  );
}

async function start(): Promise<void> {
  const { startBot } = await import('./main.ts');
  await startBot(readConfig());
}

const program = new Command('poquan')
  .description("Answers questions about China's AI race from a knowledge file, with citations.")
  .version(poquanVersion)
  .showHelpAfterError();

program
  .command('ask')
  .description('answer one question (streams; --json for one JSON object)')
  .argument('<question...>', 'the question, in English or Chinese')
  .option('--json', 'print {answerId, answer, citations, mode, usage, cost, knowledgeVersion, …} as JSON')
  .option('--conversation <id>', 'continue a named conversation (remembered between runs)')
  .action(ask);

program
  .command('retrieve')
  .description('show the passages retrieved for a question; without one, reads questions from stdin')
  .argument('[question...]', 'the question; omit to read one question per line from stdin')
  .option('--json', 'print {query, passages} as JSON')
  .option('-k <n>', 'how many passages', parsePositiveInt, 4)
  .action((words: string[], options: { json?: boolean; k: number }) => retrieve(words, options));

program
  .command('chat')
  .description('interactive conversation with memory (/sources, /reset, /exit)')
  .option('--conversation <id>', 'conversation name (default: your user name, so it survives restarts)')
  .action(chat);

program
  .command('eval')
  .description('measure retrieval recall@k and MRR on a QA file')
  .option('--qa <file>', 'JSONL questions', 'test/fixtures/qa.jsonl')
  .option('-k <n>', 'passages per question', parsePositiveInt, 4)
  .option('--json', 'print the full report as JSON')
  .action(evaluate);

program
  .command('feedback')
  .description('what users thought of the answers (👍/👎 in Telegram and Discord)')
  .command('report')
  .description('answers, 👍/👎 share, most asked questions, knowledge gaps and passages behind 👎 answers')
  .option('--from <YYYY-MM-DD>', 'first day, UTC (default: 29 days before --to)')
  .option('--to <YYYY-MM-DD>', 'last day, UTC (default: today)')
  .option('--json', 'print the report as one JSON object')
  .option('--csv', 'print the report as CSV (section,item,count)')
  .action(feedbackReport);

program.command('start').description('run the bots whose tokens are set (Telegram, Discord)').action(start);

async function webhookCommand(
  change: 'set' | 'delete' | 'info',
  options: { dropPendingUpdates?: boolean; json?: boolean },
): Promise<void> {
  const registration = await import('./adapters/telegram/webhook-registration.ts');
  const config = readConfig();
  const report =
    change === 'set'
      ? await registration.setTelegramWebhook(config, options)
      : change === 'delete'
        ? await registration.deleteTelegramWebhook(config, options)
        : await registration.describeTelegramWebhook(config);
  process.stdout.write(
    options.json ? `${JSON.stringify(report)}\n` : registration.formatWebhookReport(report),
  );
}

const webhook = program
  .command('webhook')
  .description('manage the Telegram webhook registration (TELEGRAM_WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET)');
for (const [change, description] of [
  ['set', 'register TELEGRAM_WEBHOOK_URL with its secret token, then show the registration'],
  ['delete', 'remove the webhook so the bot can long-poll again, then show the registration'],
  ['info', 'show the registration: URL, pending updates, last delivery error'],
] as const) {
  const command = webhook.command(change).description(description).option('--json', 'print it as JSON');
  if (change !== 'info') {
    command.option('--drop-pending-updates', 'discard the updates Telegram is holding for the bot');
  }
  command.action((options: { dropPendingUpdates?: boolean; json?: boolean }) =>
    webhookCommand(change, options),
  );
}

program
  .command('doctor')
  .description(
    'check configuration, knowledge, store and model endpoint; each line ok or failed with the fix',
  )
  .action(async () => {
    if (existsSync('.env')) process.loadEnvFile('.env');
    const { formatDoctorReport, runDoctor } = await import('./doctor.ts');
    const checks = await runDoctor(process.env);
    process.stdout.write(formatDoctorReport(checks));
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  });

program
  .command('deploy-commands')
  .description(
    'register the Discord slash commands (globally, or to DISCORD_GUILD_ID) and print what changed',
  )
  .action(async () => {
    const config = readConfig();
    const { deployDiscordCommands } = await import('./adapters/discord/index.ts');
    process.stdout.write(`${await deployDiscordCommands(config, createLogger(config.logLevel ?? 'warn'))}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`poquan: ${describeCliError(error)}\n`);
  process.exitCode = error instanceof LimitReachedError ? 3 : error instanceof InputError ? 2 : 1;
}

function describeCliError(error: unknown): string {
  if (error instanceof ConfigError || error instanceof LimitReachedError) return error.message;
  if (error instanceof InputError || error instanceof LlmError) return describeErrorForUser(error);
  return describeErrorForUser(error) + (error instanceof Error ? ` (${error.message})` : '');
}
