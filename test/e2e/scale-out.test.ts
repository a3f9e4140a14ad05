import { describe, expect } from 'vitest';
import { setTelegramWebhook } from '../../src/adapters/telegram/webhook-registration.ts';
import { loadConfig } from '../../src/core/config.ts';
import { startFakeLlm } from '../fakes/fake-llm.ts';
import { startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { freePort } from '../servers/free-port.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { startPoquanProcess } from '../servers/poquan-process.ts';
import { startRedisServer, withoutRedis } from '../servers/redis-server.ts';
import type { Cleanups } from './harness.ts';
import {
  ada,
  adaChat,
  secret,
  startWebhookCluster,
  token,
  type WebhookInstance,
  webhookPath,
} from './webhook-cluster.ts';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two instances behind the load balancer, sharing one real Redis of their own. */
async function twoInstances(cleanups: Cleanups, env: Record<string, string> = {}) {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  const cluster = await startWebhookCluster({
    instances: 2,
    cleanups,
    env: { STORE_URL: redis.url, STORE_NAMESPACE: 'scale-test', ...env },
  });
  const [a, b] = cluster.instances as [WebhookInstance, WebhookInstance];
  return { ...cluster, redis, a, b };
}

describe.skipIf(withoutRedis)('two Poquan instances sharing one Redis', () => {
  it('continue a conversation on instance B that began on instance A', async ({ cleanups }) => {
    const bot = await twoInstances(cleanups);
    bot.a.llm.enqueue({ content: 'Liang Wenfeng founded High-Flyer in 2015 [1].' });
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.messagesOnce(adaChat.id, 1);
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'What did he finance later?' });
    const answers = await bot.messagesOnce(adaChat.id, 2);
    expect(bot.lb.forwarded).toEqual([0, 1]);
    expect(answers[0]).toContain('Liang Wenfeng founded High-Flyer in 2015');
    expect(bot.a.llm.requests).toHaveLength(1);
    expect(bot.b.llm.requests).toHaveLength(1);
    const turnTwo = bot.b.modelMessages()[0]?.join('\n');
    expect(turnTwo).toContain('Who founded High-Flyer?');
    expect(turnTwo).toContain('Liang Wenfeng founded High-Flyer in 2015');
    expect(turnTwo).toContain('What did he finance later?');
  });

  it('answer an update once when Telegram redelivers it to the other instance, even concurrently', async ({
    cleanups,
  }) => {
    const bot = await twoInstances(cleanups);
    const update = bot.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'Who founded High-Flyer?',
    });
    expect(await bot.telegram.deliverUpdate(update, { url: bot.a.webhookUrl })).toBe(200);
    await bot.answered(1);
    expect(await bot.telegram.deliverUpdate(update, { url: bot.b.webhookUrl })).toBe(200);

    const twin = bot.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'Who runs the state AI fund?',
    });
    const statuses = await Promise.all([
      bot.telegram.deliverUpdate(twin, { url: bot.a.webhookUrl }),
      bot.telegram.deliverUpdate(twin, { url: bot.b.webhookUrl }),
      bot.telegram.deliverUpdate(twin, { url: bot.b.webhookUrl }),
    ]);
    expect(statuses).toEqual([200, 200, 200]);
    await bot.answered(2);
    await delay(300);
    expect(bot.a.llm.requests.length + bot.b.llm.requests.length).toBe(2);
    expect(bot.telegram.botMessages(adaChat.id)).toHaveLength(2);
    expect(bot.allLogs().filter((line) => line.includes('redelivered update already taken'))).toHaveLength(3);
  });

  it('count one user against one rate limit, whichever instance they reach', async ({ cleanups }) => {
    const bot = await twoInstances(cleanups, { RATE_LIMIT_PER_MINUTE: '2' });
    const questions = ['Who founded High-Flyer?', 'Who founded DeepSeek?', 'How big is the state AI fund?'];
    for (const [i, text] of questions.entries()) {
      bot.telegram.pushMessage({ chat: adaChat, from: ada, text });
      await bot.messagesOnce(adaChat.id, i + 1);
    }
    expect(bot.lb.forwarded).toEqual([0, 1, 0]);
    expect(bot.telegram.botMessages(adaChat.id).at(-1)?.text).toMatch(/asking faster than I can answer/);
    expect(bot.a.llm.requests.length + bot.b.llm.requests.length).toBe(2);
    const metrics = await (await fetch(`${bot.a.http.url}/metrics`)).text();
    expect(metrics).toMatch(/poquan_rate_limit_rejections_total\{platform="telegram"\} 1/);
  });

  it('keep answering without memory while Redis is down, report the store not ready, and recover', async ({
    cleanups,
  }) => {
    const bot = await twoInstances(cleanups);
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.messagesOnce(adaChat.id, 1);

    await bot.redis.stop();
    for (const instance of [bot.a, bot.b]) {
      const ready = await instance.readiness();
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toContainEqual(expect.objectContaining({ name: 'store', ok: false }));
      expect((await fetch(`${instance.http.url}/healthz`)).status).toBe(200);
    }
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'How did Liang Wenfeng finance DeepSeek?' });
    const degraded = await bot.messagesOnce(adaChat.id, 2);
    expect(degraded[1]).toMatch(/Sources/);
    const withoutMemory = bot.b.modelMessages()[0]?.join('\n');
    expect(withoutMemory).toContain('How did Liang Wenfeng finance DeepSeek?');
    expect(withoutMemory).not.toContain('Who founded High-Flyer?');

    await bot.redis.start();
    for (const instance of [bot.a, bot.b]) {
      await expect.poll(async () => (await instance.readiness()).status, { timeout: 8000 }).toBe(200);
    }
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded DeepSeek?' });
    await bot.messagesOnce(adaChat.id, 3);
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'How big is the national AI fund?' });
    await bot.messagesOnce(adaChat.id, 4);
    const afterRecovery = bot.b.modelMessages().at(-1)?.join('\n');
    expect(afterRecovery).toContain('Who founded DeepSeek?');
    expect(bot.allLogs().some((line) => line.includes('"level":60'))).toBe(false);
  });
});

describe.skipIf(withoutRedis)('poquan start in webhook mode', () => {
  it('drains an answer in flight on SIGTERM and exits 0 within the grace period', async ({ cleanups }) => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const telegram = await startFakeTelegram({ token });
    cleanups.push(() => telegram.close());
    const llm = await startFakeLlm();
    cleanups.push(() => llm.close());
    const port = await freePort();
    const env = {
      KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
      STORE_URL: redis.url,
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-test',
      LLM_MAX_RETRIES: '0',
      ANSWER_CACHE_TTL_HOURS: '0',
      SHOW_REASONING: 'off',
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: telegram.url,
      TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}${webhookPath}`,
      TELEGRAM_WEBHOOK_SECRET: secret,
      PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      SHUTDOWN_GRACE_MS: '8000',
      LOG_LEVEL: 'info',
    };
    const bot = startPoquanProcess(env, cleanCwd());
    cleanups.push(() => bot.stop('SIGKILL'));

    await expect
      .poll(
        () =>
          fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 15_000 },
      )
      .toBe(200);
    await setTelegramWebhook(loadConfig(env));
    const content =
      'Liang Wenfeng founded High-Flyer in 2015 and later financed DeepSeek out of its profits [1].';
    llm.enqueue({ content, chunkChars: 4, chunkDelayMs: 60 });
    telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await telegram.waitFor(() => llm.requests.length === 1 && telegram.webhookDeliveries[0]?.status === 200);

    expect(await bot.stop('SIGTERM')).toBe(0);
    // Drained, not cut short at the end of the grace period: the whole answer was written before the exit.
    expect(
      telegram
        .botMessages(adaChat.id)
        .map((message) => message.text)
        .join('\n'),
    ).toContain('later financed DeepSeek out of its profits');
    const said = bot.logs().map((entry) => entry.msg);
    expect(said).toContain('answered');
    expect(said).not.toContain('grace period over; answers still running were cut short');
    expect(said).toContain('stopped');
    const output = bot.lines.join('\n');
    expect(output).not.toContain(secret);
    expect(output).not.toContain(token);
  }, 30_000);
});
