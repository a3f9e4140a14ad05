/**
 * How long a Telegram user waits for the first words of an answer, minus the model's own first-token delay:
 * the bot's overhead (getUpdates → grammY runner → routing and rate limit → retrieval → model request → first
 * draft carrying text).
 *
 *   node --import tsx bench/telegram-first-text.ts          (RUNS=50 FIRST_TOKEN_MS=300 to change)
 *
 * Everything runs on loopback: the fake Telegram Bot API and the fake model from test/fakes, with the
 * adapter's production cadence.
 */
import { startTelegramAdapter } from '../src/adapters/telegram/index.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import { createPoquan } from '../src/poquan.ts';
import { startFakeLlm } from '../test/fakes/fake-llm.ts';
import { startFakeTelegram } from '../test/fakes/fake-telegram.ts';

const runs = Number(process.env.RUNS ?? 25);
const firstTokenDelayMs = Number(process.env.FIRST_TOKEN_MS ?? 200);

const telegram = await startFakeTelegram();
const llm = await startFakeLlm({
  defaultReply: {
    content: 'Liang Wenfeng founded DeepSeek and financed it himself [1].',
    // No thinking text: the first chunk after the delay is answer text, so the delay subtracts exactly.
    reasoning: '',
    firstTokenDelayMs,
    chunkChars: 8,
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
    SHOW_REASONING: 'off',
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.url,
  }),
  createLogger('silent'),
);
const adapter = await startTelegramAdapter(poquan);

const firstText: number[] = [];
for (let run = 0; run < runs; run++) {
  const chat = { id: 1000 + run, type: 'private', first_name: `User ${run}` } as const;
  const message = telegram.pushMessage({ chat, text: `Who founded DeepSeek? (run ${run})` });
  const updateId = telegram
    .pendingUpdates()
    .find((update) => update.message?.message_id === message.message_id)?.update_id as number;
  const shown = await telegram.waitFor(
    () =>
      telegram.calls.find(
        (call) =>
          (call.method === 'sendMessageDraft' || call.method === 'sendMessage') &&
          call.ok &&
          Number(call.body.chat_id) === chat.id &&
          String(call.body.text ?? '').length > 0,
      ),
    10_000,
  );
  await telegram.waitFor(() => telegram.callsOf('sendMessage', chat.id).length > 0, 10_000);
  firstText.push(shown.at - (telegram.deliveredAt(updateId) as number));
}

await adapter.stop(2000);
await poquan.close();
await llm.close();
await telegram.close();

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;
const overhead = firstText.map((value) => value - firstTokenDelayMs);
console.log(
  `Telegram: update handed out by getUpdates → first visible text (${runs} runs, model first token ${firstTokenDelayMs} ms)`,
);
console.log(`  first text  median ${ms(percentile(firstText, 50))}  p90 ${ms(percentile(firstText, 90))}`);
console.log(`  overhead    median ${ms(percentile(overhead, 50))}  p90 ${ms(percentile(overhead, 90))}`);
