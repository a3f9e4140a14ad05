/**
 * How long a Discord user waits for the first words of an answer, minus the model's own first-token delay:
 * the bot's overhead (gateway → discord.js → deferral → retrieval → model request → first edit).
 *
 *   node --import tsx bench/discord-first-edit.ts          (RUNS=50 FIRST_TOKEN_MS=300 to change)
 *
 * Everything runs on loopback: the fake Discord (REST + gateway) and the fake model from test/fakes.
 */
import { performance } from 'node:perf_hooks';
import { createDiscordClient } from '../src/adapters/discord/client.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import { createPoquan } from '../src/poquan.ts';
import { startFakeDiscord } from '../test/fakes/fake-discord.ts';
import { fakeUser } from '../test/fakes/fake-discord-fixtures.ts';
import { startFakeLlm } from '../test/fakes/fake-llm.ts';

const runs = Number(process.env.RUNS ?? 25);
const firstTokenDelayMs = Number(process.env.FIRST_TOKEN_MS ?? 200);

const discord = await startFakeDiscord();
const llm = await startFakeLlm({
  defaultReply: {
    content: 'Liang Wenfeng founded DeepSeek and financed it himself [1].',
    firstTokenDelayMs,
    chunkChars: 8,
    chunkDelayMs: 20,
  },
});
const poquan = await createPoquan(
  loadConfig({
    KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
    STORE_URL: 'memory://',
    LLM_BASE_URL: llm.url,
    LLM_API_KEY: 'sk-bench',
    LLM_MAX_RETRIES: '0',
    ANSWER_CACHE_TTL_HOURS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    // Thinking off: the model's first token is answer text, so the first edit is what we measure.
    LLM_THINKING: 'off',
    SHOW_REASONING: 'off',
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_BASE: discord.apiBase,
  }),
  createLogger('silent'),
);
const bot = createDiscordClient(poquan);
await bot.start();

const user = fakeUser();
const deferrals: number[] = [];
const firstEdits: number[] = [];
for (let run = 0; run < runs; run++) {
  const sentAt = performance.now();
  const { token } = discord.sendSlashCommand({
    place: discord.channel,
    user,
    name: 'ask',
    options: { question: `Who founded DeepSeek? (run ${run})` },
  });
  const original = `/webhooks/${discord.applicationId}/${token}/messages/@original`;
  const callback = await discord.waitForRequest(
    (r) => r.path.endsWith('/callback') && r.path.includes(token),
  );
  const firstText = await discord.waitForRequest(
    (r) => r.method === 'PATCH' && r.path === original && !String(r.body?.content).startsWith('-# 💭'),
  );
  await discord.waitForRequest((r) => r.path === original && String(r.body?.content).includes('-# Sources'));
  deferrals.push(callback.at - sentAt);
  firstEdits.push(firstText.at - sentAt);
}

await bot.stop(1000);
await poquan.close();
await llm.close();
await discord.close();

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;
const overheads = firstEdits.map((latency) => latency - firstTokenDelayMs);
console.log(
  `Discord /ask → first edit with answer text, ${runs} sequential runs, model first token ${firstTokenDelayMs} ms`,
);
console.log(
  `  deferral (callback type 5):  median ${ms(percentile(deferrals, 50))}, p90 ${ms(percentile(deferrals, 90))}`,
);
console.log(
  `  first text edit:             median ${ms(percentile(firstEdits, 50))}, p90 ${ms(percentile(firstEdits, 90))}`,
);
console.log(
  `  bot overhead (minus model):  median ${ms(percentile(overheads, 50))}, p90 ${ms(percentile(overheads, 90))}`,
);
console.log(`  raw first-edit latencies: ${firstEdits.map((value) => value.toFixed(0)).join(', ')}`);
