import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Poquan } from '../../src/composition-root.ts';
import type { FakeReply } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import {
  type Cleanups,
  type DiscordHarness,
  groundedAnswer as normalAnswer,
  foundersQuestion as question,
  runCleanups,
  startDiscordHarness,
  startTelegramHarness,
  type TelegramHarness,
} from './harness.ts';

/**
 * Model faults — refusals, rate limits, outages, timeouts, broken or empty streams — seen through both adapters:
 * each ends with one clear sentence (a partial answer is kept and marked), is counted in `poquan_errors_total`
 * and logged, retries happen only before the first token, and the bot goes on answering.
 */

/** How many errors of `kind` the core counted for `platform` (`poquan_errors_total`). */
async function errorCount(poquan: Poquan, platform: string, kind: string): Promise<number> {
  const { values } = await poquan.metrics.errors.get();
  return values.find((v) => v.labels.platform === platform && v.labels.kind === kind)?.value ?? 0;
}

interface ModelFault {
  name: string;
  reply: FakeReply;
  /** What the user reads: the whole reply, or for a partial answer its start, the note and the sources. */
  says: RegExp[];
  kind: string;
}

const partial = 'Liang Wenfeng founded High-Flyer in 2015 and financed DeepSeek himself [1].';
/** A partial answer: the text that arrived, a visible note, and the sources of what was said. */
const keptPartially = (start: string) => [
  new RegExp(`^${start}\\n`),
  /⚠️ The answer was cut off by the model provider\./,
  /\[1\] DeepSeek's founder/,
];
const modelFaults: ModelFault[] = [
  {
    name: 'a timeout',
    reply: { hang: true },
    says: [/^The model took too long to answer\. Please try again\.$/],
    kind: 'timeout',
  },
  {
    name: 'a 401',
    reply: { status: 401 },
    says: [/^The model provider rejected the API key\. The operator needs to check LLM_API_KEY\.$/],
    kind: 'auth',
  },
  {
    name: 'a 429 with Retry-After',
    reply: { status: 429, retryAfter: 7 },
    says: [/^The model provider is rate-limiting me\. Please try again in 7 s\.$/],
    kind: 'rate_limit',
  },
  {
    name: 'a 429 without Retry-After',
    reply: { status: 429 },
    says: [/^The model provider is rate-limiting me right now\. Please try again in a minute\.$/],
    kind: 'rate_limit',
  },
  {
    name: 'a 500',
    reply: { status: 500 },
    says: [/^The model provider is unavailable at the moment\. Please try again shortly\.$/],
    kind: 'unavailable',
  },
  {
    name: 'a 503',
    reply: { status: 503 },
    says: [/^The model provider is unavailable at the moment\. Please try again shortly\.$/],
    kind: 'unavailable',
  },
  {
    name: 'a malformed SSE line',
    reply: { content: partial, chunkChars: 14, malformed: true },
    says: keptPartially('Liang Wenfeng'),
    kind: 'cut_off',
  },
  {
    name: 'a stream that stops mid-answer',
    reply: { content: partial, chunkChars: 5, cutAfterChunks: 4 },
    says: keptPartially('Liang Wenfeng founde'),
    kind: 'cut_off',
  },
  {
    name: 'a stream that stalls mid-answer',
    reply: { content: partial, chunkChars: 5, stallAfterChunks: 4 },
    says: [/^Liang Wenfeng founde\n/, /⚠️ .*The model took too long to answer\./],
    kind: 'timeout',
  },
  {
    name: 'an empty answer',
    reply: { content: '' },
    says: [/^The model returned an empty answer\. Please try rephrasing the question\.$/],
    kind: 'empty',
  },
];

/** The file-level bots below, stopped once every test of the file has run. */
const fileCleanups: Cleanups = [];
afterAll(() => runCleanups(fileCleanups));

/** Whether a log line reports a failure of this kind (the core's warning, or an adapter's error fields). */
const reportsKind = (entry: Record<string, unknown>, kind: string) =>
  [entry, entry.err].some((fields) => (fields as { kind?: unknown } | undefined)?.kind === kind);

/** A bot on either platform, reduced to what these specs use: ask a question, read what the user sees. */
interface AskingBot {
  llm: TelegramHarness['llm'];
  poquan: Poquan;
  logs: TelegramHarness['logs'];
  ask(question: string): Promise<string[]>;
}

const harnessOptions = [{ LLM_TIMEOUT_MS: '400' }, { quietMs: 100 }] as const;
const platforms: Array<{ name: string; platform: string; start(): Promise<AskingBot> }> = [
  {
    name: 'Telegram',
    platform: 'telegram',
    start: () => startTelegramHarness(fileCleanups, ...harnessOptions),
  },
  {
    name: 'Discord',
    platform: 'discord',
    async start() {
      const bot: DiscordHarness = await startDiscordHarness(fileCleanups, ...harnessOptions);
      return { ...bot, ask: (text) => bot.askSlash(text) };
    },
  },
];

describe.each(platforms)('model faults through $name', ({ platform, start }) => {
  let bot: AskingBot;
  beforeAll(async () => {
    bot = await start();
  });

  it.each(modelFaults)('tells the user about $name in one message, counts and logs it', async (fault) => {
    const before = await errorCount(bot.poquan, platform, fault.kind);
    const logged = bot.logs.lines.length;
    bot.llm.enqueue(fault.reply);
    const [reply, ...more] = await bot.ask(question);
    expect(more).toEqual([]);
    for (const part of fault.says) expect(reply).toMatch(part);
    expect(await errorCount(bot.poquan, platform, fault.kind)).toBe(before + 1);
    expect(
      bot.logs
        .entries()
        .slice(logged)
        .some((entry) => reportsKind(entry, fault.kind)),
    ).toBe(true);
  });

  it('goes on answering after all of them', async () => {
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(bot.logs.errors()).toEqual([]);
  });
});

describe('model retries', () => {
  it('retries 429 and 503 before the stream starts, and never once text has been shown', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups, { LLM_MAX_RETRIES: '2' });
    bot.llm.enqueue({ status: 503, retryAfter: 0 }, { status: 429, retryAfter: 0 });
    expect(await bot.ask(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(bot.llm.requests).toHaveLength(3);

    bot.llm.enqueue({ content: partial, chunkChars: 5, cutAfterChunks: 4 });
    const [cut] = await bot.ask(question);
    expect(cut).toMatch(/^Liang Wenfeng found[\s\S]*⚠️/);
    expect(bot.llm.requests).toHaveLength(4);
  });
});
