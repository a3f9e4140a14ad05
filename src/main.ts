import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { describeCliError, LimitReachedError } from './adapters/cli/errors.ts';
import { terminalStyle, wantsColor } from './adapters/cli/render.ts';
import type { Poquan } from './composition-root.ts';
import type { Config, ConfigFallbacks } from './core/config.ts';
import { describeErrorForUser } from './core/error-sentences.ts';
import { ConfigError, InputError, LlmError, StartupError } from './core/errors.ts';
import type { QaCase } from './core/evaluate.ts';
import { poquanVersion } from './version.ts';

// Every command imports what it needs when it runs, so `--help` loads no SDK and an offline `ask` no model
// client, platform library or metrics registry: start-up is most of a one-shot command's time.

// `poquan … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const style = terminalStyle(wantsColor(Boolean(process.stdout.isTTY), process.env));
const output = { out: process.stdout, err: process.stderr, style };

/** The settings this run read: a failure's line names the model or store setting behind it (see `describeCliError`). */
let configInUse: Config | undefined;

async function readConfig(fallbacks?: ConfigFallbacks): Promise<Config> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { loadConfig } = await import('./core/config.ts');
  configInUse = loadConfig(process.env, fallbacks);
  return configInUse;
}

/**
 * The CLI's logger, configured secrets scrubbed: without LOG_LEVEL, warnings and worse as plain lines on stderr
 * (see `createTerminalLog`); with it, the JSON log at that level.
 */
async function loggerFor(config: Config) {
  const [{ createLogger }, { secretsOf }, { createTerminalLog }] = await Promise.all([
    import('./logging/logger.ts'),
    import('./core/config.ts'),
    import('./adapters/cli/terminal-log.ts'),
  ]);
  const destination = config.logLevel ? 2 : createTerminalLog(process.stderr, config.storeUrl);
  return createLogger(config.logLevel ?? 'warn', destination, secretsOf(config));
}

async function withPoquan<T>(run: (poquan: Poquan) => Promise<T>, configured?: Config): Promise<T> {
  const config = configured ?? (await readConfig());
  const [{ createPoquan }, logger] = await Promise.all([import('./composition-root.ts'), loggerFor(config)]);
  const poquan = await createPoquan(config, logger, { countMetrics: false });
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

function parsePort(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65_535)
    throw new InvalidArgumentError('must be a port number from 1 to 65535');
  return value;
}

async function ask(words: string[], options: { json?: boolean; conversation?: string }): Promise<void> {
  const [{ cleanQuestion }, { collectAnswerJson, printAnswerStream }] = await Promise.all([
    import('./core/question.ts'),
    import('./adapters/cli/print-answer.ts'),
  ]);
  const { askAsCli } = await import('./adapters/cli/ask-question.ts');
  await withPoquan(async (poquan) => {
    const question = cleanQuestion(words.join(' '), poquan.config.maxQuestionChars);
    const conversationId = `cli:${options.conversation ?? `once-${randomUUID()}`}`;
    const events = askAsCli(poquan, question, conversationId);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(await collectAnswerJson(events))}\n`);
    } else {
      await printAnswerStream(events, output);
    }
  });
}

async function retrieve(words: string[], options: { json?: boolean; k: number }): Promise<void> {
  const [{ cleanQuestion }, { passageToJson, renderPassagesForTerminal }] = await Promise.all([
    import('./core/question.ts'),
    import('./adapters/cli/render.ts'),
  ]);
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

async function evaluate(options: {
  qa: string;
  k: number;
  json?: boolean;
  answers?: boolean;
}): Promise<void> {
  if (options.answers) return evaluateAnswers(options);
  const [
    { evaluateCase, readQaFile, summarizeEvaluation },
    { withProgressBar },
    { recommendRelevanceFloor },
    { createBm25Retriever },
  ] = await Promise.all([
    import('./core/evaluate.ts'),
    import('./adapters/cli/progress-bar.ts'),
    import('./core/relevance-floor.ts'),
    import('./search/bm25-retriever.ts'),
  ]);
  await withPoquan(async (poquan) => {
    const cases = await readQaFile(options.qa);
    const bar = { stream: process.stderr, label: 'evaluating', total: cases.length, show: !options.json };
    const results = await withProgressBar(bar, async (progress) => {
      const evaluated = [];
      for (const qa of cases) {
        evaluated.push(evaluateCase(poquan.retriever(), qa, options.k));
        if (options.json) continue;
        progress.increment();
        // Retrieval is synchronous: without a turn of the event loop the bar's redraw timer never fires.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return evaluated;
    });
    const report = summarizeEvaluation(results, options.k);
    // Scores below the floor in force are never seen through `poquan.retriever()`; the recommendation needs them all.
    const unfloored = createBm25Retriever(poquan.knowledge(), { minScore: 0 });
    const floor = recommendRelevanceFloor(unfloored, cases, options.k);
    const inForce = poquan.config.retrieval.relevanceFloor;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...report, relevanceFloor: { inForce, ...floor } })}\n`);
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
        floor
          ? `  relevance floor: ${inForce} in force (RELEVANCE_FLOOR); recommended ${floor.recommended} for this knowledge and QA file: keeps ${floor.keptInScope}/${floor.inScope} findable answers, refuses ${floor.refusedOutOfScope}/${floor.outOfScope} out-of-scope questions (scores kept ≥ ${floor.lowestKept}, refused ≤ ${floor.highestRefused})${floor.outOfScope === 0 ? ' (add out_of_scope questions to tune it)' : ''}`
          : `  relevance floor: ${inForce} in force (RELEVANCE_FLOOR); no recommendation: no in-scope question finds its facts`,
        misses.length
          ? `Misses:\n${misses.map((m) => `  - ${m.q}${m.outOfScope ? ` (out of scope, ${m.retrieved} passages retrieved)` : ''}`).join('\n')}`
          : 'No misses.',
        '',
      ].join('\n'),
    );
  });
}

/**
 * `eval --answers`: asks every question through the real answer path, each in a fresh conversation and past
 * the answer cache (a replayed answer would measure an earlier model), and checks what came back.
 */
async function evaluateAnswers(options: { qa: string; json?: boolean }): Promise<void> {
  const config = await readConfig();
  const [{ readQaFile }, { summarizeAnswerChecks }, { renderAnswerCheckForTerminal }, { withProgressBar }] =
    await Promise.all([
      import('./core/evaluate.ts'),
      import('./core/answer-check.ts'),
      import('./adapters/cli/answer-check-report.ts'),
      import('./adapters/cli/progress-bar.ts'),
    ]);
  await withPoquan(
    async (poquan) => {
      const cases = await readQaFile(options.qa);
      const bar = { stream: process.stderr, label: 'asking', total: cases.length, show: !options.json };
      const items = await withProgressBar(bar, async (progress) => {
        const checked: Awaited<ReturnType<typeof askAndCheck>>[] = [];
        for (const qa of cases) {
          checked.push(await askAndCheck(poquan, qa));
          progress.increment();
        }
        return checked;
      });
      const report = summarizeAnswerChecks(items);
      process.stdout.write(
        options.json
          ? `${JSON.stringify(report)}\n`
          : renderAnswerCheckForTerminal(
              report,
              `${options.qa}, ${poquan.llm ? `model ${poquan.llm.model}` : 'offline'}`,
            ),
      );
    },
    { ...config, answerCacheTtlMs: 0 },
  );
}

async function askAndCheck(poquan: Poquan, qa: QaCase) {
  const { checkAnswer, failedCheck } = await import('./core/answer-check.ts');
  try {
    const conversationId = `cli:eval-${randomUUID()}`;
    // A follow-up is asked where it belongs: right after the question it follows, in the same conversation.
    if (qa.after) for await (const _ of poquan.answer(qa.after, conversationId));
    const events = poquan.answer(qa.q, conversationId);
    for await (const event of events) {
      if (event.type === 'done') return checkAnswer(qa, event, poquan.knowledge());
    }
    return failedCheck(qa, 'the answer ended without a done event');
  } catch (error) {
    // A rejected key, or a provider that cannot be connected to, fails every question alike: say so once
    // (naming the setting) instead of reporting zeros.
    const unreachable = error instanceof LlmError && error.kind === 'unavailable' && !error.options.status;
    if ((error instanceof LlmError && error.kind === 'auth') || unreachable) throw error;
    if (!(error instanceof LlmError || error instanceof InputError)) throw error;
    return failedCheck(qa, describeErrorForUser(error));
  }
}

async function feedbackReport(options: { from?: string; to?: string; json?: boolean; csv?: boolean }) {
  if (options.json && options.csv) throw new InputError('Choose one of --json and --csv.');
  const [
    { buildFeedbackReport, parseReportRange },
    { renderFeedbackReportCsv, renderFeedbackReportForTerminal },
  ] = await Promise.all([import('./core/feedback-report.ts'), import('./adapters/cli/feedback-report.ts')]);
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
  const { runChat } = await import('./adapters/cli/chat.ts');
  await withPoquan((poquan) =>
    runChat(poquan, process.stdin, output, `cli:chat:${options.conversation ?? userInfo().username}`),
  );
}

async function start(options: { defaultPort?: string }): Promise<void> {
  const { startBot } = await import('./start-bots.ts');
  try {
    await startBot(await readConfig({ PORT: options.defaultPort }));
  } catch (error) {
    // Nothing is being answered yet: an unexpected failure here is a failure to start, and says so.
    if (error instanceof ConfigError || error instanceof StartupError) throw error;
    throw new StartupError(`Poquan could not start: ${(error as Error)?.message ?? error}`, { cause: error });
  }
}

const program = new Command('poquan')
  // No topic here: the topic in force comes from BOT_TOPIC or the knowledge files' front matter, and `--help`
  // reads neither (settings and knowledge would make it slower, and a bad setting would make it fail).
  .description('Answers questions from a Markdown knowledge file, citing its passages.')
  .version(poquanVersion)
  // Usage errors throw instead of exiting, so they get one line, a hint and exit code 2 below; subcommands
  // inherit these settings because they are set before any subcommand is added.
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`poquan: ${text.replace(/^error: /, '')}`) })
  .showHelpAfterError("Run 'poquan --help' or 'poquan <command> --help' for usage.")
  .addHelpText(
    'after',
    [
      '',
      'Exit codes: 0 done, 1 failed (settings, model, platform), 2 bad input or usage.',
      'Colour: on when stdout is a terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 on (FORCE_COLOR=0 off).',
      'Settings come from the environment and ./.env (see .env.example); `poquan doctor` checks them.',
    ].join('\n'),
  );

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
  .description('measure retrieval recall@k and MRR on a QA file; --answers checks written answers instead')
  .option('--qa <file>', 'JSONL questions', 'test/fixtures/qa.jsonl')
  .option('-k <n>', 'passages per question', parsePositiveInt, 4)
  .option(
    '--answers',
    'ask the configured model every question and check the answers: fact, citations, figures, language',
  )
  .option('--json', 'print the full report as JSON')
  .action(evaluate);

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

async function knowledgeDir(dir: string | undefined): Promise<string> {
  return dir ?? (await readConfig()).knowledgeDir;
}

async function knowledgeAdd(
  files: string[],
  options: { dir?: string; title?: string; source?: string; date?: string; url?: string },
): Promise<void> {
  const [{ addKnowledgeFiles }, { describeBadDate }, { renderAddedFile }] = await Promise.all([
    import('./knowledge-tools/add-knowledge.ts'),
    import('./knowledge-tools/check-knowledge.ts'),
    import('./adapters/cli/knowledge-report.ts'),
  ]);
  const { dir, ...overrides } = options;
  if (Object.keys(overrides).length > 0 && files.length > 1)
    throw new InputError(
      '--title, --source, --date and --url describe one file: add the files one at a time.',
    );
  const badDate = overrides.date === undefined ? undefined : describeBadDate(overrides.date, today());
  if (badDate) throw new InputError(`--date: ${badDate}`);
  const target = await knowledgeDir(dir);
  const added = await addKnowledgeFiles(files, target, { overrides, today: today() });
  for (const file of added) process.stdout.write(renderAddedFile(file, target, style));
}

async function knowledgeCheck(options: { dir?: string }): Promise<void> {
  const { checkKnowledgeDir, formatProblem } = await import('./knowledge-tools/check-knowledge.ts');
  const dir = await knowledgeDir(options.dir);
  const problems = await checkKnowledgeDir(dir, today());
  for (const problem of problems) process.stdout.write(`${formatProblem(problem)}\n`);
  if (problems.length === 0) {
    process.stdout.write(`${dir}: every knowledge file is fine.\n`);
    return;
  }
  const gaps = problems.some((problem) =>
    problem.message.endsWith('has no Chinese rendering in the glossary'),
  );
  process.stderr.write(
    `poquan: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}${gaps ? '; `poquan knowledge glossary --suggest FILE` proposes the missing Chinese renderings' : ''}\n`,
  );
  process.exitCode = 1;
}

async function knowledgeGlossary(options: { suggest?: string; dir?: string }): Promise<void> {
  if (!options.suggest) throw new InputError('Say which file: poquan knowledge glossary --suggest FILE');
  const config = await readConfig();
  const { suggestGlossary, acceptedPath } = await import('./knowledge-tools/suggest-glossary.ts');
  const llm =
    config.llm.mode === 'llm'
      ? (await import('./llm/openai-client.ts')).createOpenAiLlm(config.llm)
      : undefined;
  const dir = options.dir ?? config.knowledgeDir;
  const result = await suggestGlossary(options.suggest, dir, {
    llm,
    timeoutMs: config.llm.timeoutMs,
    today: today(),
  });
  if (result.gaps.length === 0) {
    process.stdout.write(
      `Every name and figure in ${options.suggest} has a Chinese rendering in the glossary.\n`,
    );
    return;
  }
  const rendered = new Set(result.rows.map((row) => row.english));
  const lines = result.rows.map(
    (row) => `  ${row.chinese}  ←  ${row.english}${row.note ? `  (${row.note})` : ''}`,
  );
  const missing = result.gaps.filter((gap) => !rendered.has(gap.term)).map((gap) => gap.term);
  if (result.path) {
    lines.unshift(`Wrote ${result.rows.length} suggested glossary rows to ${result.path} (not live):`);
    lines.push(
      `Review each row (correct or delete it), then make them live: mv ${result.path} ${acceptedPath(result.path)}`,
    );
  }
  if (missing.length > 0) lines.push(`No suggestion for: ${missing.join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!result.path) {
    process.stderr.write(
      `poquan: the model's reply held no usable glossary rows for ${options.suggest} (expected "n | 中文 | note" lines); nothing was written\n`,
    );
    process.exitCode = 1;
  }
}

const knowledge = program
  .command('knowledge')
  .description('add articles to the knowledge, check it, and suggest Chinese glossary rows');

knowledge
  .command('add')
  .description(
    'add saved web pages (.html), Markdown or text files as knowledge files; prints their passages',
  )
  .argument('<file...>', 'the files to add; nothing is added when any of them is not an article')
  .option('--dir <dir>', 'the knowledge directory (default: KNOWLEDGE_DIR)')
  .option('--title <text>', "the article's title, instead of the file's own")
  .option('--source <name>', 'the publication, instead of the page metadata')
  .option('--date <YYYY-MM-DD>', 'when its facts were current, instead of the page metadata')
  .option('--url <url>', "the article's address, instead of the page metadata")
  .action(knowledgeAdd);

knowledge
  .command('check')
  .description('check every knowledge file; prints one line per problem (file:line) and exits 1 when any')
  .option('--dir <dir>', 'the knowledge directory (default: KNOWLEDGE_DIR)')
  .action(knowledgeCheck);

knowledge
  .command('glossary')
  .description(
    'ask the model for Chinese renderings of the names and figures in a file that the glossary lacks',
  )
  .option(
    '--suggest <file>',
    'the knowledge file to find missing renderings in; rows go to a file for review',
  )
  .option('--dir <dir>', 'the knowledge directory (default: KNOWLEDGE_DIR)')
  .action(knowledgeGlossary);

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

program
  .command('start')
  .description('run the bots whose tokens are set (Telegram, Discord)')
  .option(
    '--default-port <port>',
    'serve HTTP on this port when PORT is unset or empty (the Docker image passes 8080)',
    parsePort,
  )
  .action(start);

async function webhookCommand(
  change: 'set' | 'delete' | 'info',
  options: { dropPendingUpdates?: boolean; json?: boolean },
): Promise<void> {
  const registration = await import('./adapters/telegram/webhook-registration.ts');
  const config = await readConfig();
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
    'check configuration, knowledge, store, model endpoint and bot tokens; each line ok or failed with the fix',
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
    const config = await readConfig();
    const [{ deployDiscordCommands }, logger, { loadKnowledge }, { resolveTopic }] = await Promise.all([
      import('./adapters/discord/index.ts'),
      loggerFor(config),
      import('./core/knowledge.ts'),
      import('./core/topic.ts'),
    ]);
    // The descriptions name the topic, which the knowledge's front matter may set.
    const topic = resolveTopic(config.topic, (await loadKnowledge(config.knowledgeDir)).topic);
    process.stdout.write(`${await deployDiscordCommands(config, logger, topic)}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the usage error (or the help or version asked for) already.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`poquan: ${describeCliError(error, configInUse)}\n`);
    process.exitCode = error instanceof LimitReachedError ? 3 : error instanceof InputError ? 2 : 1;
  }
}
