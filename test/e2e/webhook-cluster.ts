import { type RunningTelegramAdapter, startTelegramAdapter } from '../../src/adapters/telegram/index.ts';
import { setTelegramWebhook } from '../../src/adapters/telegram/webhook-registration.ts';
import { createPoquan, type Poquan } from '../../src/composition-root.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { type RunningHttpServer, startHttpServer } from '../../src/server/http.ts';
import { type FakeLlm, type FakeLlmOptions, startFakeLlm } from '../fakes/fake-llm.ts';
import { type FakeChat, type FakeTelegram, startFakeTelegram } from '../fakes/fake-telegram.ts';
import { type LoadBalancer, startLoadBalancer } from '../servers/load-balancer.ts';
import type { Cleanups } from './harness.ts';

/**
 * Poquan deployed for Telegram webhooks as the README describes it, on loopback: N instances (each its own
 * `createPoquan`, Telegram adapter in webhook mode and HTTP server, wired as `src/start-bots.ts` wires them) behind a
 * round-robin load balancer, with the fake Telegram delivering updates to the balancer's URL. Each instance
 * has its own fake model, so a test can tell which instance answered and what it sent to the model.
 */

export const token = '123:WEBHOOK-TEST-TOKEN';
export const secret = 'webhook-secret-7f3a9c';
export const webhookPath = '/telegram/webhook';
export const ada = { id: 42, is_bot: false, first_name: 'Ada', language_code: 'en' };
export const adaChat: FakeChat = { id: 42, type: 'private', first_name: 'Ada' };

/**
 * The settings of one Poquan instance behind the deployment's webhook, in process or as a process: the mini
 * knowledge, the model at `llmUrl` with retries, answer cache, rate limit and reasoning off, and Telegram at
 * `telegramUrl` posting to `webhookUrl` with the secret token.
 */
export function webhookInstanceSettings(at: {
  llmUrl: string;
  telegramUrl: string;
  webhookUrl: string;
}): Record<string, string> {
  return {
    KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
    LLM_BASE_URL: at.llmUrl,
    LLM_API_KEY: 'sk-test',
    LLM_MAX_RETRIES: '0',
    ANSWER_CACHE_TTL_HOURS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    SHOW_REASONING: 'off',
    TELEGRAM_BOT_TOKEN: token,
    TELEGRAM_API_ROOT: at.telegramUrl,
    TELEGRAM_WEBHOOK_URL: at.webhookUrl,
    TELEGRAM_WEBHOOK_SECRET: secret,
    HTTP_HOST: '127.0.0.1',
  };
}

/** Fast but real streaming cadence, as in the polling tests. */
const timing = { privateIntervalMs: 60, groupIntervalMs: 250, messageGapMs: 50, typingIntervalMs: 200 };

/** One Poquan instance of the deployment. */
export interface WebhookInstance {
  poquan: Poquan;
  adapter: RunningTelegramAdapter;
  http: RunningHttpServer;
  llm: FakeLlm;
  /** Every log line the instance wrote (JSON text). */
  logs: string[];
  /** This instance's own webhook URL, bypassing the load balancer. */
  webhookUrl: string;
  /** The conversation (system prompt aside) of each request this instance made to its model. */
  modelMessages(): string[][];
  /** `GET /readyz` on this instance. */
  readiness(): Promise<{
    status: number;
    body: { checks: Array<{ name: string; ok: boolean; error?: string }> };
  }>;
  /** Stops as `src/start-bots.ts` does on SIGTERM: adapter (draining for `graceMs`), HTTP server, store. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** The running deployment. */
export interface WebhookCluster {
  telegram: FakeTelegram;
  lb: LoadBalancer;
  instances: WebhookInstance[];
  /** Log lines of every instance. */
  allLogs(): string[];
  /** Resolves once `count` answers have been delivered across the instances (their "delivered" log lines). */
  answered(count: number, timeoutMs?: number): Promise<void>;
  /** The bot's messages in a chat once there are `count`, as their texts. */
  messagesOnce(chatId: number, count: number, timeoutMs?: number): Promise<string[]>;
}

/** Options for `startWebhookCluster`. */
export interface WebhookClusterOptions {
  instances: number;
  /** Settings every instance gets on top of the test defaults (e.g. `STORE_URL` of a shared Redis). */
  env?: Record<string, string>;
  llm?: FakeLlmOptions;
  /** Log level of the instances (default debug, so tests see everything). */
  logLevel?: string;
  /** Called with each instance's services before its adapter starts (to wrap its work queue, say). */
  prepare?: (poquan: Poquan, index: number) => void;
  cleanups: Cleanups;
}

/** Starts the fakes, the balancer and the instances, and registers the webhook through `setTelegramWebhook`. */
export async function startWebhookCluster(options: WebhookClusterOptions): Promise<WebhookCluster> {
  const { cleanups } = options;
  const telegram = await startFakeTelegram({ token, webhookRetryMs: 50 });
  cleanups.push(() => telegram.close());
  const lb = await startLoadBalancer();
  cleanups.push(() => lb.close());

  const instances: WebhookInstance[] = [];
  for (let i = 0; i < options.instances; i += 1) {
    const llm = await startFakeLlm(options.llm);
    cleanups.push(() => llm.close());
    const logs: string[] = [];
    const logger = createLogger(options.logLevel ?? 'debug', {
      write: (line: string) => void logs.push(line),
    });
    const poquan = await createPoquan(
      loadConfig({
        ...webhookInstanceSettings({
          llmUrl: llm.url,
          telegramUrl: telegram.url,
          webhookUrl: `${lb.url}${webhookPath}`,
        }),
        STORE_URL: 'memory://',
        PORT: '0',
        ...options.env,
      }),
      logger,
    );
    options.prepare?.(poquan, i);
    const adapter = await startTelegramAdapter(poquan, timing);
    const http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      services: poquan,
      logger,
      routes: adapter.routes,
      checks: [
        {
          name: adapter.name,
          check: async () => {
            if (!adapter.isConnected()) throw new Error(`${adapter.name} is not connected`);
          },
        },
      ],
    });
    let stopped: Promise<void> | undefined;
    const instance: WebhookInstance = {
      poquan,
      adapter,
      http,
      llm,
      logs,
      webhookUrl: `${http.url}${webhookPath}`,
      modelMessages: () =>
        llm.requests.map((request) =>
          (request.body.messages as Array<{ role: string; content: string }>)
            .filter((message) => message.role !== 'system')
            .map((message) => message.content),
        ),
      async readiness() {
        const response = await fetch(`${http.url}/readyz`);
        return { status: response.status, body: (await response.json()) as never };
      },
      stop(graceMs = 1000) {
        stopped ??= (async () => {
          await adapter.stop(graceMs);
          await http.close();
          await poquan.close();
        })();
        return stopped;
      },
    };
    cleanups.push(() => instance.stop());
    instances.push(instance);
    lb.backends.push(http.url);
  }
  await setTelegramWebhook((instances[0] as WebhookInstance).poquan.config);

  const allLogs = () => instances.flatMap((instance) => instance.logs);
  return {
    telegram,
    lb,
    instances,
    allLogs,
    async answered(count, timeoutMs = 8000) {
      await telegram.waitFor(
        () => allLogs().filter((line) => line.includes('"msg":"delivered"')).length >= count,
        timeoutMs,
      );
    },
    async messagesOnce(chatId, count, timeoutMs = 8000) {
      await telegram.waitFor(() => telegram.botMessages(chatId).length >= count, timeoutMs);
      return telegram.botMessages(chatId).map((message) => message.text);
    },
  };
}
