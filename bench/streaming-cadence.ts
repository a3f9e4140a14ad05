/**
 * Streaming cadence (issue 18): how soon a user sees the first readable line of an answer, how soon the
 * finished answer, and how many platform calls an answer costs, on Telegram (private chat, group) and Discord
 * (`/ask`), with a fast model (the answer streams in under a second) and a slow one (400 ms per word). It can
 * run an older checkout's adapters beside this one's against the same fakes (this checkout's), each in a
 * process of its own, one after the other:
 *
 *   node --import tsx bench/streaming-cadence.ts                                    this checkout only
 *   node --import tsx bench/streaming-cadence.ts --before /tmp/poquan-stream-before  BEFORE and AFTER
 *     [--runs 9] [--slow-runs 3] [--out bench/results/streaming-cadence.json]
 *
 * Timestamps are `performance.now()` in the worker process: the update's hand-out by `getUpdates` (Telegram)
 * or the interaction's dispatch (Discord), each answer-text chunk as the fake model writes it, each platform
 * call as the fake platform receives it.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type FakeDiscord, type RecordedRequest, startFakeDiscord } from '../test/fakes/fake-discord.ts';
import { fakeUser } from '../test/fakes/fake-discord-fixtures.ts';
import { type FakeLlm, type FakeReply, startFakeLlm } from '../test/fakes/fake-llm.ts';
import { type FakeChat, type FakeTelegram, startFakeTelegram } from '../test/fakes/fake-telegram.ts';
import { formatMs, renderMarkdown, type Table } from './report.ts';
import { summarize } from './stats.ts';

/** About 30 words, 190 characters: the same answer for both models. */
const answer =
  'DeepSeek was founded in 2023 by Liang Wenfeng, who had made his fortune with the hedge fund High-Flyer ' +
  '[1]. He financed it himself, so it could work free of outside investors [1].';
const models: Record<'fast' | 'slow', { label: string; reply: FakeReply }> = {
  fast: {
    label: 'fast model (300 ms to the first token, 8 characters every 30 ms: 0.7 s of streaming)',
    reply: { content: answer, reasoning: '', firstTokenDelayMs: 300, chunkChars: 8, chunkDelayMs: 30 },
  },
  slow: {
    label: 'slow model (300 ms to the first token, then one word every 400 ms: 12 s of streaming)',
    reply: { content: answer, reasoning: '', firstTokenDelayMs: 300, chunkWords: true, chunkDelayMs: 400 },
  },
};
const platforms = ['Telegram private chat', 'Telegram group', 'Discord /ask'] as const;
const readable = 50;

/** One answer as measured, relative to the incoming update (ms). */
interface Sample {
  /** The model had written the first 50 characters of answer text. */
  model50: number;
  /** The first platform call showing at least 50 characters of the answer (a preview, or the final message). */
  shown50: number;
  /** The final message (the one carrying the sources). */
  final: number;
  /** The model's last chunk. */
  modelDone: number;
  /** Every platform call made for this answer. */
  calls: number;
}

/** What a worker sends back: samples per model and platform. */
type WorkerResult = Record<string, Record<string, Sample[]>>;

const strip = (html: string) =>
  html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/▌$/, '');

/** The model request's chunk times: when it had written `chars` characters, and when it finished. */
function modelTimes(llm: FakeLlm, chars: number) {
  const chunks = llm.requests.at(-1)?.contentChunks ?? [];
  let text = '';
  let at = Number.NaN;
  for (const chunk of chunks) {
    text += chunk.text;
    if (text.trim().length >= chars) {
      at = chunk.at;
      break;
    }
  }
  return { at50: at, done: chunks.at(-1)?.at ?? Number.NaN };
}

async function askTelegram(
  telegram: FakeTelegram,
  llm: FakeLlm,
  chat: FakeChat,
  text: string,
): Promise<Sample> {
  telegram.pushMessage({
    chat,
    from: { id: 7100, is_bot: false, first_name: 'Bench', language_code: 'en' },
    text,
  });
  const updateId = telegram.pendingUpdates().find((u) => u.message?.chat.id === chat.id)?.update_id as number;
  const ofChat = () => telegram.calls.filter((call) => Number(call.body?.chat_id) === chat.id);
  const final = await telegram.waitFor(
    () => ofChat().find((call) => call.ok && String(call.body.text ?? '').includes('Sources')),
    60_000,
  );
  const incoming = telegram.deliveredAt(updateId) as number;
  const shown = ofChat().find(
    (call) => call.ok && strip(String(call.body.text ?? '')).trim().length >= readable,
  );
  const model = modelTimes(llm, readable);
  return {
    model50: model.at50 - incoming,
    shown50: (shown?.at ?? Number.NaN) - incoming,
    final: final.at - incoming,
    modelDone: model.done - incoming,
    calls: ofChat().filter((call) => call.at <= final.at).length,
  };
}

async function askDiscord(discord: FakeDiscord, llm: FakeLlm, text: string): Promise<Sample> {
  const incoming = performance.now();
  const { token } = discord.sendSlashCommand({
    place: discord.channel,
    user: fakeUser(),
    name: 'ask',
    options: { question: text },
  });
  const ofThis = () => discord.requests.filter((r) => r.path.includes(token));
  const isFinal = (r: RecordedRequest) =>
    r.status === 200 && String(r.body?.content ?? '').includes('-# Sources');
  const final = await discord.waitForRequest((r) => r.path.includes(token) && isFinal(r), 60_000);
  const shown = ofThis().find(
    (r) =>
      r.status === 200 &&
      r.method === 'PATCH' &&
      strip(String(r.body?.content ?? '')).trim().length >= readable,
  );
  const model = modelTimes(llm, readable);
  return {
    model50: model.at50 - incoming,
    shown50: (shown?.at ?? Number.NaN) - incoming,
    final: final.at - incoming,
    modelDone: model.done - incoming,
    calls: ofThis().filter((r) => r.at <= final.at).length,
  };
}

/** Runs in a child process: one checkout's Poquan and adapters against this checkout's fakes. */
async function runWorker(root: string, runs: { fast: number; slow: number }): Promise<WorkerResult> {
  const load = (path: string) => import(pathToFileURL(resolve(root, path)).href);
  const { startTelegramAdapter } = await load('src/adapters/telegram/index.ts');
  const { createDiscordClient } = await load('src/adapters/discord/client.ts');
  const { loadConfig } = await load('src/core/config.ts');
  const { createLogger } = await load('src/logging/logger.ts');
  const { createPoquan } = await load('src/composition-root.ts');
  const result: WorkerResult = {};
  let id = 0;
  for (const [name, model] of Object.entries(models)) {
    const byPlatform: Record<string, Sample[]> = {};
    result[name] = byPlatform;
    // One fake model per platform, so concurrent answers never share a reply queue.
    const setups = await Promise.all(
      platforms.map(async (platform) => {
        const llm = await startFakeLlm({ defaultReply: model.reply });
        const telegram = await startFakeTelegram();
        const discord = await startFakeDiscord();
        const poquan = await createPoquan(
          loadConfig({
            STORE_URL: 'memory://',
            LLM_BASE_URL: llm.url,
            LLM_API_KEY: 'sk-bench',
            LLM_MAX_RETRIES: '0',
            LLM_THINKING: 'off',
            SHOW_REASONING: 'off',
            ANSWER_CACHE_TTL_HOURS: '0',
            RATE_LIMIT_PER_MINUTE: '0',
            TELEGRAM_BOT_TOKEN: telegram.token,
            TELEGRAM_API_ROOT: telegram.url,
            DISCORD_TOKEN: discord.token,
            DISCORD_APPLICATION_ID: discord.applicationId,
            DISCORD_API_BASE: discord.apiBase,
          }),
          createLogger('silent'),
        );
        const adapter = await startTelegramAdapter(poquan);
        const bot = createDiscordClient(poquan);
        await bot.start();
        const ask = (question: string): Promise<Sample> => {
          id++;
          if (platform === 'Discord /ask') return askDiscord(discord, llm, question);
          const chat: FakeChat =
            platform === 'Telegram group'
              ? { id: -1_000_720_000 - id, type: 'supergroup', title: `Bench ${id}` }
              : { id: 720_000 + id, type: 'private', first_name: `Bench ${id}` };
          const text = platform === 'Telegram group' ? `@${telegram.bot.username} ${question}` : question;
          return askTelegram(telegram, llm, chat, text);
        };
        const close = async () => {
          await adapter.stop(2000);
          await bot.stop(2000);
          await poquan.close();
          await Promise.all([llm.close(), telegram.close(), discord.close()]);
        };
        return { platform, ask, close };
      }),
    );
    const count = name === 'fast' ? runs.fast : runs.slow;
    const questions = ['Who founded DeepSeek?', 'Who financed DeepSeek?', 'When was DeepSeek founded?'];
    const measure = async (setup: (typeof setups)[number]) => {
      await setup.ask('Who is Liang Wenfeng?');
      const samples: Sample[] = [];
      for (let run = 0; run < count; run++)
        samples.push(await setup.ask(questions[run % questions.length] as string));
      byPlatform[setup.platform] = samples;
    };
    // The fast model's answers one at a time; the slow model's mostly wait, so the platforms run side by side.
    if (name === 'fast') for (const setup of setups) await measure(setup);
    else await Promise.all(setups.map(measure));
    for (const setup of setups) await setup.close();
  }
  return result;
}

/** Forks this script as a worker for `root` and resolves with its samples. */
async function runIsolated(root: string, runs: { fast: number; slow: number }): Promise<WorkerResult> {
  const child = fork(
    fileURLToPath(import.meta.url),
    ['--worker', root, '--runs', String(runs.fast), '--slow-runs', String(runs.slow)],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const [message] = (await once(child, 'message')) as [WorkerResult];
  await once(child, 'exit');
  return message;
}

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    worker: { type: 'string' },
    runs: { type: 'string', default: '9' },
    'slow-runs': { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});
const runs = { fast: Number(values.runs), slow: Number(values['slow-runs']) };

if (values.worker) {
  const result = await runWorker(values.worker, runs);
  process.send?.(result, () => process.exit(0));
} else {
  const here = fileURLToPath(new URL('..', import.meta.url));
  const versions: Array<[string, string]> = [
    ...(values.before ? [['before', resolve(values.before)] as [string, string]] : []),
    ['after', here],
  ];
  const results: Record<string, WorkerResult> = {};
  for (const [version, root] of versions) {
    process.stderr.write(`  [streaming-cadence] ${version}: ${root}\n`);
    results[version] = await runIsolated(root, runs);
  }
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const model of Object.keys(models) as Array<keyof typeof models>) {
    for (const platform of platforms) {
      const calls: Record<string, number> = {};
      for (const [version] of versions) {
        const samples = results[version]?.[model]?.[platform] ?? [];
        const lag = summarize(samples.map((s) => s.shown50 - s.model50));
        const p50 = (pick: (s: Sample) => number) => summarize(samples.map(pick)).p50;
        calls[version] = p50((s) => s.calls);
        rows.push([
          `${model}, ${platform}`,
          version,
          formatMs(p50((s) => s.model50)),
          `${formatMs(p50((s) => s.shown50))} (+${formatMs(lag.p50)} / max +${formatMs(lag.max)})`,
          formatMs(p50((s) => s.final)),
          `${formatMs(p50((s) => s.final - s.modelDone))}`,
          String(calls[version]),
        ]);
        if (version === 'after') {
          const lagMet = lag.p50 <= 50;
          const callsMet = calls.before === undefined || (calls.after ?? 0) <= calls.before + 1;
          verdicts.push(
            `${model}, ${platform}: first 50 characters shown +${formatMs(lag.p50)} after the model wrote them (p50; goal ≤ 50 ms) — ${lagMet ? 'met' : 'NOT met'}; calls per answer ${calls.after}${calls.before === undefined ? '' : ` vs ${calls.before} before (goal ≤ before + 1) — ${callsMet ? 'met' : 'NOT met'}`}`,
          );
        }
      }
    }
  }
  const table: Table = {
    title: `Streaming cadence: ${runs.fast} answers per row with the fast model, ${runs.slow} with the slow one (p50 unless noted)`,
    columns: [
      'model, where',
      'version',
      'update → model wrote 50 characters',
      'update → first 50 characters shown (lag after the model)',
      'update → final',
      'last token → final',
      'platform calls per answer',
    ],
    rows,
    notes: [
      models.fast.label,
      models.slow.label,
      'Calls: every call the fake platform received for the answer up to the final message: typing actions, drafts, preview messages and edits, the final message (Telegram); the deferral and every edit of the reply (Discord).',
    ],
  };
  console.log(renderMarkdown(table));
  console.log(verdicts.map((line) => `- ${line}`).join('\n'));
  const out = values.out ?? fileURLToPath(new URL('./results/streaming-cadence.json', import.meta.url));
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ runs, answerChars: answer.length, results }, null, 2)}\n`);
}
