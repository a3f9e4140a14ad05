/**
 * The fake model and the fake Telegram Bot API in a child process of the throughput benchmark, so the bot
 * process's CPU, memory and event-loop delay are its own: on a 2-core machine the fakes get the other core.
 * Started by `bench/throughput.ts` with an IPC channel; not meant to be run by hand.
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type FakeReply, startFakeLlm } from '../test/fakes/fake-llm.ts';
import { startFakeTelegram } from '../test/fakes/fake-telegram.ts';
import { summarize } from './stats.ts';

/** The parent's requests; each but `close` is answered by one report with the same `id`. */
export type FakesRequest =
  | { type: 'restart-llm'; id: number; reply: FakeReply }
  | { type: 'cpu'; id: number }
  | { type: 'telegram-burst'; id: number; firstChatId: number; chats: number; text: string; expect: string }
  | { type: 'close' };

/** What a Telegram burst came to, measured where Telegram would see it. */
interface TelegramBurstReport {
  type: 'telegram-done';
  id: number;
  chats: number;
  answered: number;
  /** Final answers that do not carry the model's text. */
  wrongAnswers: number;
  /** Bot API calls the fake refused, of any method. */
  failedCalls: number;
  /** From the first update handed out to the last final answer. */
  wallMs: number;
  /** Per chat: update handed out → final answer. */
  latencyMs: ReturnType<typeof summarize>;
}

/** The child's messages to the parent. */
export type FakesReport =
  | { type: 'ready'; telegramUrl: string; telegramToken: string }
  | { type: 'llm-restarted'; id: number; llmUrl: string }
  | { type: 'cpu'; id: number; cpuMs: number }
  | TelegramBurstReport;

const burstTimeoutMs = 120_000;

const send = (report: FakesReport) => process.send?.(report);
const telegram = await startFakeTelegram();
let llm: { url: string; close(): Promise<void> } | undefined;
/** How many fake model instances share the load; see `startModel`. */
const modelInstances = 8;

/**
 * The fake model as several instances behind a round-robin TCP proxy, fresh for every burst. The fake
 * simulates DeepSeek's context cache by comparing each prompt with every earlier one; a single instance
 * that had served a thousand prompts would become the bottleneck being measured.
 */
async function startModel(reply: FakeReply): Promise<{ url: string; close(): Promise<void> }> {
  const instances = await Promise.all(
    Array.from({ length: modelInstances }, () => startFakeLlm({ defaultReply: reply })),
  );
  const ports = instances.map((instance) => Number(new URL(instance.url).port));
  let next = 0;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(ports[next++ % ports.length] as number, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await Promise.all(instances.map((instance) => instance.close()));
    },
  };
}

async function restartLlm(reply: FakeReply): Promise<string> {
  await llm?.close();
  llm = await startModel(reply);
  return llm.url;
}

/** Pushes one message to each of `chats` new private chats and reports once every chat has its answer. */
function runBurst(request: Extract<FakesRequest, { type: 'telegram-burst' }>): void {
  let cursor = telegram.calls.length;
  const pushed = new Map<number, number>();
  for (let i = 0; i < request.chats; i++) {
    const id = request.firstChatId + i;
    telegram.pushMessage({
      chat: { id, type: 'private', first_name: `Load ${i}` },
      from: { id, is_bot: false, first_name: `Load ${i}`, language_code: 'en' },
      text: request.text,
    });
    const update = telegram.pendingUpdates().at(-1);
    if (update) pushed.set(id, update.update_id);
  }
  const finals = new Map<number, number>();
  let wrongAnswers = 0;
  let failedCalls = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    for (; cursor < telegram.calls.length; cursor++) {
      const call = telegram.calls[cursor];
      if (!call || call.method === 'getUpdates') continue;
      if (!call.ok) failedCalls++;
      const chatId = Number(call.body.chat_id);
      const text = String(call.body.text ?? '');
      if (call.method !== 'sendMessage' || !call.ok || !pushed.has(chatId) || !text.includes('Sources'))
        continue;
      finals.set(chatId, call.at);
      if (!text.includes(request.expect)) wrongAnswers++;
    }
    if (finals.size < request.chats && performance.now() - started < burstTimeoutMs) return;
    clearInterval(timer);
    const delivered = [...pushed].map(([chatId, updateId]) => ({
      deliveredAt: telegram.deliveredAt(updateId) ?? Number.NaN,
      finalAt: finals.get(chatId) ?? Number.NaN,
    }));
    const answered = delivered.filter((chat) => Number.isFinite(chat.finalAt));
    send({
      type: 'telegram-done',
      id: request.id,
      chats: request.chats,
      answered: answered.length,
      wrongAnswers,
      failedCalls,
      wallMs:
        Math.max(...answered.map((chat) => chat.finalAt)) -
        Math.min(...delivered.map((chat) => chat.deliveredAt).filter(Number.isFinite)),
      latencyMs: summarize(answered.map((chat) => chat.finalAt - chat.deliveredAt)),
    });
  }, 10);
}

process.on('message', (request: FakesRequest) => {
  if (request.type === 'restart-llm') {
    void restartLlm(request.reply).then((llmUrl) => send({ type: 'llm-restarted', id: request.id, llmUrl }));
  } else if (request.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', id: request.id, cpuMs: (user + system) / 1000 });
  } else if (request.type === 'telegram-burst') {
    runBurst(request);
  } else {
    void Promise.all([llm?.close(), telegram.close()]).then(() => process.disconnect());
  }
});
send({ type: 'ready', telegramUrl: telegram.url, telegramToken: telegram.token });
