/**
 * Section 4: the time the bot itself adds, measured end to end against loopback fakes with the adapters'
 * production cadence. A fake model with a fixed time to first token and token rate answers; everything
 * between an incoming Telegram update or Discord interaction and the first visible text that is not the
 * model's own delay (to its first token and on to the last chunk of the text first shown: the adapters wait
 * for a readable first line) is overhead, and so is the time between the model's last token and the final
 * message.
 */
import { createDiscordClient } from '../src/adapters/discord/client.ts';
import { startTelegramAdapter } from '../src/adapters/telegram/index.ts';
import { createPoquan } from '../src/composition-root.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/logging/logger.ts';
import { type FakeDiscord, startFakeDiscord } from '../test/fakes/fake-discord.ts';
import { fakeUser } from '../test/fakes/fake-discord-fixtures.ts';
import { type FakeLlm, type FakeReply, startFakeLlm } from '../test/fakes/fake-llm.ts';
import {
  type FakeChat,
  type FakeTelegram,
  type RecordedCall,
  startFakeTelegram,
} from '../test/fakes/fake-telegram.ts';
import { loadBenchInputs } from './inputs.ts';
import { type ModelTimings, watchModelRequests } from './model-timing.ts';
import { formatMs, type Goal, type SectionOptions, type SectionResult, type Table } from './report.ts';
import { median, summarize } from './stats.ts';

/** The fake model: 300 ms to the first token, then 8 characters (about 2 tokens) every 25 ms. */
const model = { firstTokenMs: 300, chunkChars: 8, chunkDelayMs: 25 };
const answer =
  'DeepSeek was founded in 2023 by Liang Wenfeng, who had become a billionaire after founding the hedge fund ' +
  'High-Flyer in 2015 [1]. He financed the company with his own money, so DeepSeek is self-funded and could ' +
  'operate independently of the constraints of state or corporate funding [1]. Its V3 and R1 models perform on ' +
  'a par with leading global models, built at a much lower cost and without the most advanced chips [2].';
const reply: FakeReply = {
  content: answer,
  reasoning: '',
  firstTokenDelayMs: model.firstTokenMs,
  chunkChars: model.chunkChars,
  chunkDelayMs: model.chunkDelayMs,
};

/** What one run observed, as `performance.now()` timestamps. */
interface Observation {
  incomingAt: number;
  firstTextAt: number;
  /** When the fake model wrote the chunk that completed the text first shown. */
  shownTextWrittenAt: number;
  finalAt: number;
  /** Visible updates before the final message (drafts, preview messages, edits). */
  previews: number;
}

interface Scenario {
  name: string;
  /** The adapter's minimum time between two visible updates in this kind of chat. */
  editIntervalMs: number;
  /** Asks `question` as a new user or chat numbered `id` (unique within the section). */
  ask(id: number, question: string): Promise<Observation>;
}

/** When the model's latest request had written `text` (HTML tags, entities and a cursor aside). */
function writtenAt(llm: FakeLlm, text: string): number {
  const shown = text
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|amp);/g, '_')
    .replace(/▌$/, '')
    .trim().length;
  let written = 0;
  for (const chunk of llm.requests.at(-1)?.contentChunks ?? []) {
    written += chunk.text.length;
    if (written >= shown) return chunk.at;
  }
  return Number.NaN;
}

const textMethods = new Set(['sendMessageDraft', 'sendMessage', 'editMessageText']);

/** Telegram: the update is "incoming" when `getUpdates` hands it to the bot. */
async function askTelegram(
  telegram: FakeTelegram,
  llm: FakeLlm,
  chat: FakeChat,
  text: string,
): Promise<Observation> {
  telegram.pushMessage({
    chat,
    from: { id: 7000, is_bot: false, first_name: 'Bench', language_code: 'en' },
    text,
  });
  const updateId = telegram.pendingUpdates().find((update) => update.message?.chat.id === chat.id)?.update_id;
  const isText = (call: RecordedCall) =>
    textMethods.has(call.method) &&
    call.ok &&
    Number(call.body.chat_id) === chat.id &&
    Boolean(call.body.text);
  const final = await telegram.waitFor(
    () => telegram.calls.find((call) => isText(call) && String(call.body.text).includes('Sources')),
    20_000,
  );
  const texts = telegram.calls.filter(isText);
  const incomingAt = updateId === undefined ? undefined : telegram.deliveredAt(updateId);
  if (incomingAt === undefined || !texts[0])
    throw new Error(`Telegram chat ${chat.id}: no delivery or no text`);
  return {
    incomingAt,
    firstTextAt: texts[0].at,
    shownTextWrittenAt: writtenAt(llm, String(texts[0].body.text)),
    finalAt: final.at,
    previews: texts.filter((call) => call.at < final.at).length,
  };
}

/** Discord: the interaction is "incoming" when the fake gateway dispatches it. */
async function askDiscord(discord: FakeDiscord, llm: FakeLlm, text: string): Promise<Observation> {
  const incomingAt = performance.now();
  const { token } = discord.sendSlashCommand({
    place: discord.channel,
    user: fakeUser(),
    name: 'ask',
    options: { question: text },
  });
  const original = `/webhooks/${discord.applicationId}/${token}/messages/@original`;
  const isText = (request: { method: string; path: string; body?: { content?: unknown } }) =>
    request.method === 'PATCH' && request.path === original && Boolean(request.body?.content);
  const final = await discord.waitForRequest(
    (request) => isText(request) && String(request.body?.content).includes('-# Sources'),
    20_000,
  );
  const texts = discord.requests.filter(isText);
  if (!texts[0]) throw new Error('Discord: no text edit');
  return {
    incomingAt,
    firstTextAt: texts[0].at,
    shownTextWrittenAt: writtenAt(llm, String(texts[0].body?.content)),
    finalAt: final.at,
    previews: texts.filter((request) => request.at < final.at).length,
  };
}

interface RunResult extends Observation {
  modelStartedAt: number;
  modelFinishedAt: number;
}

/**
 * Asks `warmUps` untimed questions (first connections, first compilation), then `runs` timed ones; `nextId`
 * numbers every question of the section, so no chat or question repeats.
 */
async function runScenario(
  scenario: Scenario,
  questions: string[],
  counts: { warmUps: number; runs: number },
  timings: ModelTimings,
  nextId: () => number,
) {
  const results: RunResult[] = [];
  for (let run = 0; run < counts.warmUps + counts.runs; run++) {
    const before = timings.requests.length;
    const id = nextId();
    const observation = await scenario.ask(id, questions[id % questions.length] as string);
    const request = timings.requests[before];
    if (timings.requests.length !== before + 1 || request?.finishedAt === undefined) {
      throw new Error(`${scenario.name}: expected one finished model request per answer`);
    }
    if (run >= counts.warmUps) {
      results.push({
        ...observation,
        modelStartedAt: request.startedAt,
        modelFinishedAt: request.finishedAt,
      });
    }
  }
  const overhead = results.map(
    (r) => r.firstTextAt - r.incomingAt - (r.shownTextWrittenAt - r.modelStartedAt),
  );
  const beforeModel = results.map((r) => r.modelStartedAt - r.incomingAt);
  const afterWritten = results.map((r) => r.firstTextAt - r.shownTextWrittenAt);
  const final = results.map((r) => r.finalAt - r.modelFinishedAt);
  return {
    name: scenario.name,
    editIntervalMs: scenario.editIntervalMs,
    runs: results.length,
    firstText: summarize(results.map((r) => r.firstTextAt - r.incomingAt)),
    overhead: summarize(overhead),
    beforeModel: summarize(beforeModel),
    afterWritten: summarize(afterWritten),
    final: summarize(final),
    previews: median(results.map((r) => r.previews)),
    raw: results,
  };
}

/** Section 4 of `npm run bench`; what and why in the file comment. */
export async function measureBotOverhead({ quick, progress }: SectionOptions): Promise<SectionResult> {
  const runs = quick ? 1 : 15;
  const { qa } = await loadBenchInputs();
  const questions = qa.filter((q) => q.lang === 'en' && !('out_of_scope' in q)).map((q) => q.q);
  const llm = await startFakeLlm({ defaultReply: reply });
  const telegram = await startFakeTelegram();
  const discord = await startFakeDiscord();
  const timings = watchModelRequests();
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
  const telegramAdapter = await startTelegramAdapter(poquan);
  const discordBot = createDiscordClient(poquan);
  await discordBot.start();

  const scenarios: Scenario[] = [
    {
      name: 'Telegram private chat (draft stream)',
      editIntervalMs: 1000,
      ask: (id, question) =>
        askTelegram(
          telegram,
          llm,
          { id: 710_000 + id, type: 'private', first_name: `Bench ${id}` },
          question,
        ),
    },
    {
      name: 'Telegram group (preview message + edits)',
      editIntervalMs: 3000,
      ask: (id, question) =>
        askTelegram(
          telegram,
          llm,
          { id: -1_000_710_000 - id, type: 'supergroup', title: `Bench ${id}` },
          `@${telegram.bot.username} ${question}`,
        ),
    },
    {
      name: 'Discord /ask in a guild channel',
      editIntervalMs: 1000,
      ask: (_id, question) => askDiscord(discord, llm, question),
    },
  ];
  let asked = 0;
  const nextId = () => asked++;
  const results = [];
  let coldStart: Awaited<ReturnType<typeof runScenario>>;
  try {
    // The very first answers of the process, timed as they are: what users see right after a (re)start.
    progress('first two answers after start-up');
    coldStart = await runScenario(
      scenarios[0] as Scenario,
      questions,
      { warmUps: 0, runs: 2 },
      timings,
      nextId,
    );
    for (const scenario of scenarios) {
      progress(`${scenario.name}: ${runs} runs after one warm-up`);
      results.push(await runScenario(scenario, questions, { warmUps: 1, runs }, timings, nextId));
    }
  } finally {
    timings.stop();
    await telegramAdapter.stop(2000);
    await discordBot.stop(2000);
    await poquan.close();
    await llm.close();
    await telegram.close();
    await discord.close();
  }

  const streamMs = Math.ceil([...answer].length / model.chunkChars - 1) * model.chunkDelayMs;
  const table: Table = {
    title: `Time the bot adds (${runs} sequential answers per row; model: first token after ${model.firstTokenMs} ms, then ${model.chunkChars} characters every ${model.chunkDelayMs} ms, ~${streamMs} ms of streaming)`,
    columns: [
      'where',
      'first text (p50)',
      'added to first text p50 / p90',
      'before model request (p50)',
      'shown text written → visible (p50)',
      'last token → final message p50 / max',
      'edit interval',
      'previews per answer',
    ],
    rows: results.map((r) => [
      r.name,
      formatMs(r.firstText.p50),
      `${formatMs(r.overhead.p50)} / ${formatMs(r.overhead.p90)}`,
      formatMs(r.beforeModel.p50),
      formatMs(r.afterWritten.p50),
      `${formatMs(r.final.p50)} / ${formatMs(r.final.max)}`,
      formatMs(r.editIntervalMs),
      String(r.previews),
    ]),
    notes: [
      'added to first text: from the update handed out by getUpdates (Telegram) or the interaction dispatched on the gateway (Discord) to the first call that shows answer text, minus the model’s own time from the request to writing that text (its first-token delay, and the chunks up to the readable first line the adapters wait for).',
      'before model request: until the model request’s headers reach the fake; shown text written → visible: from the fake model writing the last chunk of the text first shown to the call showing it. Both sum to the added time.',
      'last token → final message: from the fake model finishing its response to the call that shows the final answer with its sources.',
      'Timestamps: performance.now() in one process, recorded by the fakes on arrival (Telegram, Discord) and by Node’s HTTP diagnostics channels (model).',
    ],
  };
  const coldTable: Table = {
    title: `First answers after start-up (${coldStart.name}, same model; not counted above)`,
    columns: ['answer', 'added to first text', 'before model request', 'shown text written → visible'],
    rows: coldStart.raw.map((r, index) => [
      index === 0 ? 'first' : 'second',
      formatMs(r.firstTextAt - r.incomingAt - (r.shownTextWrittenAt - r.modelStartedAt)),
      formatMs(r.modelStartedAt - r.incomingAt),
      formatMs(r.firstTextAt - r.shownTextWrittenAt),
    ]),
    notes: [
      'The table above starts each row with one untimed answer; these are the process’s first two answers. Section 3’s cold-start table times the retrieval step alone in a fresh process.',
    ],
  };
  const goals: Goal[] = results.flatMap((r) => [
    {
      goal: `${r.name}: < 30 ms added to first text at p50`,
      measured: formatMs(r.overhead.p50),
      met: r.overhead.p50 < 30,
    },
    {
      goal: `${r.name}: final message within one edit interval (${formatMs(r.editIntervalMs)}) of the last token, every run`,
      measured: `max ${formatMs(r.final.max)}`,
      met: r.final.max <= r.editIntervalMs,
    },
  ]);
  return {
    tables: [table, coldTable],
    goals,
    data: { model, answerChars: [...answer].length, coldStart, scenarios: results },
  };
}
