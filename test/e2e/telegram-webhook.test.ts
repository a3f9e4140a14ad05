import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { startTelegramAdapter } from '../../src/adapters/telegram/index.ts';
import { createPoquan } from '../../src/composition-root.ts';
import { loadConfig } from '../../src/core/config.ts';
import { ConfigError, StoreError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { type FakeTelegram, startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { freePort } from '../servers/free-port.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { runPoquan } from '../servers/poquan-process.ts';
import type { Cleanups } from './harness.ts';
import { ada, adaChat, secret, startWebhookCluster, token, type WebhookInstance } from './webhook-cluster.ts';

const one = async (
  cleanups: Cleanups,
  options: Omit<Parameters<typeof startWebhookCluster>[0], 'instances' | 'cleanups'> = {},
) => {
  const cluster = await startWebhookCluster({ instances: 1, cleanups, ...options });
  return { ...cluster, instance: cluster.instances[0] as WebhookInstance };
};

describe('Telegram webhook mode', () => {
  it('answers updates Telegram posts to the webhook, never calling deleteWebhook or getUpdates', async ({
    cleanups,
  }) => {
    const bot = await one(cleanups);
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    const [answer] = await bot.messagesOnce(adaChat.id, 1);
    expect(answer).toMatch(/Sources\n\[1\] /);
    expect(bot.telegram.webhookDeliveries.map((delivery) => delivery.status)).toEqual([200]);
    expect(bot.telegram.callsOf('deleteWebhook')).toEqual([]);
    expect(bot.telegram.callsOf('getUpdates')).toEqual([]);
    expect(bot.telegram.callsOf('setWebhook')[0]?.body).toMatchObject({
      secret_token: secret,
      allowed_updates: ['message', 'callback_query'],
    });
    const ready = await bot.instance.readiness();
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toContainEqual({ name: 'telegram', ok: true });
  });

  it('refuses a missing or wrong secret token with 401 and answers only the genuine update', async ({
    cleanups,
  }) => {
    const bot = await one(cleanups);
    const forged = bot.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'Who founded High-Flyer?',
    });
    const url = bot.instance.webhookUrl;
    expect(await bot.telegram.deliverUpdate(forged, { url, secret: null })).toBe(401);
    expect(await bot.telegram.deliverUpdate(forged, { url, secret: `${secret}x` })).toBe(401);
    expect(await bot.telegram.deliverUpdate(forged, { url, secret: secret.slice(0, -1) })).toBe(401);
    expect(bot.instance.llm.requests).toHaveLength(0);
    expect(await bot.telegram.deliverUpdate(forged, { url, secret })).toBe(200);
    await bot.answered(1);
    expect(bot.instance.llm.requests).toHaveLength(1);
    expect(bot.telegram.botMessages(adaChat.id)).toHaveLength(1);
  });

  it('rejects a body that is not an update', async ({ cleanups }) => {
    const bot = await one(cleanups);
    const post = (body: string) =>
      fetch(bot.instance.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        body,
      });
    expect((await post('{"update_id": "7"}')).status).toBe(400);
    expect((await post('not json')).status).toBe(400);
    expect((await post(`{"update_id":1,"pad":"${'x'.repeat(1_100_000)}"}`)).status).toBe(413);
  });

  it('acknowledges an update before its answer exists and writes the answer afterwards', async ({
    cleanups,
  }) => {
    const bot = await one(cleanups);
    let letModelAnswer = () => {};
    const holdUntil = new Promise<void>((resolve) => {
      letModelAnswer = resolve;
    });
    bot.instance.llm.enqueue({ content: 'Liang Wenfeng founded High-Flyer [1].', holdUntil });
    const update = bot.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'Who founded High-Flyer?',
    });
    // The model answers only once the POST has been acknowledged: a webhook that waited for the answer before
    // acknowledging would leave the POST unanswered (status 0 once Telegram gives up).
    expect(await bot.telegram.deliverUpdate(update)).toBe(200);
    expect(bot.telegram.botMessages(adaChat.id)).toHaveLength(0);
    letModelAnswer();
    const [answer] = await bot.messagesOnce(adaChat.id, 1);
    expect(answer).toContain('Liang Wenfeng founded High-Flyer');
  });

  it("keeps a chat's messages in order: the second question waits for the first answer and sees it", async ({
    cleanups,
  }) => {
    const bot = await one(cleanups);
    bot.instance.llm.enqueue(
      { content: 'High-Flyer was founded by Liang Wenfeng [1].', chunkChars: 8, chunkDelayMs: 40 },
      { content: 'He financed DeepSeek himself [1].' },
    );
    const first = bot.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'Who founded High-Flyer?',
    });
    const second = bot.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'And what did he do next?',
    });
    expect(
      await Promise.all([bot.telegram.deliverUpdate(first), bot.telegram.deliverUpdate(second)]),
    ).toEqual([200, 200]);
    const answers = await bot.messagesOnce(adaChat.id, 2);
    expect(answers[0]).toContain('High-Flyer was founded');
    expect(answers[1]).toContain('He financed DeepSeek');
    const [, secondRequest] = bot.instance.modelMessages();
    expect(secondRequest?.join('\n')).toContain('Who founded High-Flyer?');
    expect(secondRequest?.join('\n')).toContain('High-Flyer was founded by Liang Wenfeng');
  });

  it('answers an update Telegram redelivers only once', async ({ cleanups }) => {
    const bot = await one(cleanups);
    const update = bot.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'Who founded High-Flyer?',
    });
    expect(await bot.telegram.deliverUpdate(update)).toBe(200);
    expect(
      await Promise.all([bot.telegram.deliverUpdate(update), bot.telegram.deliverUpdate(update)]),
    ).toEqual([200, 200]);
    await bot.answered(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bot.instance.llm.requests).toHaveLength(1);
    expect(bot.telegram.botMessages(adaChat.id)).toHaveLength(1);
  });

  it('answers once an update its instance could not queue, though the store kept it and handed it to another', async ({
    cleanups,
  }) => {
    const cluster = await startWebhookCluster({
      instances: 2,
      cleanups,
      env: {
        STORE_URL: `sqlite://${mkdtempSync(join(cleanCwd(), 'store-'))}/poquan.sqlite`,
        // The second instance looks for new items it did not receive itself once per lease.
        TELEGRAM_WEBHOOK_LEASE_MS: '1500',
      },
      logLevel: 'info',
      // The first instance's store stores the update but its reply is lost, and fails every claim meanwhile (one
      // outage): the first instance answers the update at once, the second takes the stored copy.
      prepare(poquan, index) {
        if (index !== 0) return;
        const open = poquan.openQueue;
        poquan.openQueue = (name, options) => {
          const queue = open(name, options);
          const lost = () => new StoreError('store queue failed: Socket closed unexpectedly');
          return {
            ...queue,
            async add(item) {
              await queue.add(item);
              throw lost();
            },
            async claim() {
              throw lost();
            },
          };
        };
      },
    });
    const [first, second] = cluster.instances as [WebhookInstance, WebhookInstance];
    const update = cluster.telegram.makeMessageUpdate({
      chat: adaChat,
      from: ada,
      text: 'Who founded High-Flyer?',
    });
    // Whichever answer reaches the chat first waits for Telegram's reply until the other attempt has ended.
    const firstSent = cluster.telegram.holdNext('sendMessage');
    expect(await cluster.telegram.deliverUpdate(update, { url: first.webhookUrl })).toBe(200);
    const ends = /"msg":"(delivered|a later attempt took the update over; this one stops)"/;
    const ended = () => cluster.allLogs().filter((line) => ends.test(line)).length;
    await firstSent.arrived;
    await cluster.telegram.waitFor(() => ended() === 1, 20_000);
    firstSent.release();
    await cluster.telegram.waitFor(() => ended() === 2, 20_000);

    expect(first.llm.requests).toHaveLength(1);
    expect(second.llm.requests).toHaveLength(1);
    expect(cluster.telegram.botMessages(adaChat.id).map((message) => message.text)).toEqual([
      expect.stringMatching(/^According to the knowledge file, .*\[1\]/),
    ]);
  });

  it('drains an answer in flight on stop, refusing new updates with 503 and reporting not ready meanwhile', async ({
    cleanups,
  }) => {
    const bot = await one(cleanups);
    bot.instance.llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer in 2015 and later financed DeepSeek himself [1].',
      chunkChars: 6,
      chunkDelayMs: 60,
    });
    bot.telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await bot.telegram.waitFor(() => bot.instance.llm.requests.length === 1);
    const stopping = bot.instance.adapter.stop(5000);
    const late = bot.telegram.makeMessageUpdate({ chat: adaChat, from: ada, text: 'One more?' });
    expect(await bot.telegram.deliverUpdate(late, { url: bot.instance.webhookUrl })).toBe(503);
    const ready = await bot.instance.readiness();
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toContainEqual({
      name: 'telegram',
      ok: false,
      error: 'telegram is not connected',
    });
    await stopping;
    const [answer] = bot.telegram.botMessages(adaChat.id).map((message) => message.text);
    expect(answer).toContain('later financed DeepSeek himself');
    expect(bot.instance.llm.requests).toHaveLength(1);
  });

  it('logs at info with request and conversation ids, but never the question, the token or the secret', async ({
    cleanups,
  }) => {
    const bot = await one(cleanups, { logLevel: 'info' });
    const question = 'Who founded High-Flyer, the quant fund?';
    const update = bot.telegram.makeMessageUpdate({ chat: adaChat, from: ada, text: question });
    expect(await bot.telegram.deliverUpdate(update, { secret: 'wrong' })).toBe(401);
    expect(await bot.telegram.deliverUpdate(update)).toBe(200);
    expect(await bot.telegram.deliverUpdate(update)).toBe(200);
    bot.instance.llm.enqueue({ status: 500 });
    bot.telegram.pushMessage({
      chat: adaChat,
      from: ada,
      text: 'And the 60 billion yuan fund, who runs it?',
    });
    await bot.answered(1);
    await bot.messagesOnce(adaChat.id, 2);
    await bot.instance.stop();
    const logs = bot.allLogs();
    const answered = logs.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'answered');
    expect(answered).toMatchObject({ requestId: expect.any(String), conversationId: 'telegram:42' });
    expect(logs.some((line) => line.includes('"level":50'))).toBe(false);
    for (const line of logs) {
      expect(line).not.toContain('High-Flyer');
      expect(line).not.toContain('60 billion');
      expect(line).not.toContain(token);
      expect(line).not.toContain(token.split(':')[1]);
      expect(line).not.toContain(secret);
    }
  });
});

describe('Telegram webhook configuration', () => {
  it('requires a valid secret token with a webhook URL, naming the setting but never echoing it', () => {
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/tg' })).toThrow(
      /TELEGRAM_WEBHOOK_SECRET: is required when TELEGRAM_WEBHOOK_URL is set/,
    );
    const bad = 'not allowed!';
    expect(() =>
      loadConfig({ TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/tg', TELEGRAM_WEBHOOK_SECRET: bad }),
    ).toThrow(/TELEGRAM_WEBHOOK_SECRET: must be 1-256 letters/);
    const config = loadConfig({
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/hooks/telegram?x=1',
      TELEGRAM_WEBHOOK_SECRET: 'abc_DEF-123',
    });
    expect(config.telegram.webhook).toEqual({
      url: 'https://bot.example.com/hooks/telegram?x=1',
      path: '/hooks/telegram',
      secret: 'abc_DEF-123',
      leaseMs: 15_000,
    });
    expect(() =>
      loadConfig({
        TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/tg',
        TELEGRAM_WEBHOOK_SECRET: 'abc',
        TELEGRAM_WEBHOOK_LEASE_MS: '50',
      }),
    ).toThrow(/TELEGRAM_WEBHOOK_LEASE_MS: must be at least 300/);
  });

  it('refuses to start a webhook adapter without PORT to serve it on', async ({ cleanups }) => {
    const poquan = await createPoquan(
      loadConfig({
        KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
        STORE_URL: 'memory://',
        TELEGRAM_BOT_TOKEN: token,
        TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/tg',
        TELEGRAM_WEBHOOK_SECRET: secret,
      }),
      createLogger('silent'),
    );
    cleanups.push(() => poquan.close());
    await expect(startTelegramAdapter(poquan)).rejects.toThrow(ConfigError);
    await expect(startTelegramAdapter(poquan)).rejects.toThrow(/set PORT/);
  });
});

describe('poquan webhook', () => {
  /** Runs the real CLI with only the given settings; resolves with its exit code and output. */
  function poquan(args: string[], env: Record<string, string>) {
    return runPoquan(args, { STORE_URL: 'memory://', ...env }, cleanCwd());
  }

  async function fake(cleanups: Cleanups): Promise<FakeTelegram> {
    const telegram = await startFakeTelegram({ token, webhookRetryMs: 50 });
    cleanups.push(() => telegram.close());
    return telegram;
  }

  it('sets, shows and deletes the registration, never printing the token or the secret', async ({
    cleanups,
  }) => {
    const telegram = await fake(cleanups);
    // A URL with the token in its path, as older guides suggest: it is shown redacted.
    const url = `https://bot.example.com/hook/${token}`;
    const env = {
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: telegram.url,
      TELEGRAM_WEBHOOK_URL: url,
      TELEGRAM_WEBHOOK_SECRET: secret,
    };
    telegram.pushMessage({ chat: adaChat, from: ada, text: 'waiting since before the webhook' });

    const set = await poquan(['webhook', 'set'], env);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toMatch(/^webhook +https:\/\/bot\.example\.com\/hook\/\[redacted\]\n/);
    expect(set.stdout).toMatch(/allowed updates +message, callback_query/);
    expect(telegram.webhookUrl).toBe(url);
    expect(telegram.webhookSecret).toBe(secret);
    expect(telegram.callsOf('setWebhook')[0]?.body).toMatchObject({ drop_pending_updates: false });

    await telegram.waitFor(() => telegram.webhookDeliveries.length > 0);
    const info = await poquan(['webhook', 'info'], env);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/pending updates +1/);
    expect(info.stdout).toMatch(/last error +\d{4}-\d\d-\d\dT[\d:.]+Z {2}Failed to resolve host/);
    const json = JSON.parse((await poquan(['webhook', 'info', '--json'], env)).stdout);
    expect(json).toMatchObject({ matchesConfig: true, pendingUpdateCount: 1, maxConnections: 40 });
    const elsewhere = await poquan(['webhook', 'info'], {
      ...env,
      TELEGRAM_WEBHOOK_URL: 'https://new.example.com/x',
    });
    expect(elsewhere.stdout).toContain('(not TELEGRAM_WEBHOOK_URL: run `poquan webhook set`)');

    const removed = await poquan(['webhook', 'delete', '--drop-pending-updates'], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(
      /^webhook +none \(the bot long-polls\)\npending updates +0\nlast error +none\n$/,
    );
    expect(telegram.webhookUrl).toBe('');

    for (const run of [set, info, elsewhere, removed]) {
      expect(run.stdout + run.stderr).not.toContain(secret);
      expect(run.stdout + run.stderr).not.toContain(token);
    }
  }, 30_000);

  it('says what to set when the webhook settings are missing, and when Telegram refuses the token', async ({
    cleanups,
  }) => {
    const telegram = await fake(cleanups);
    const missing = await poquan(['webhook', 'set'], {
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_API_ROOT: telegram.url,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Set TELEGRAM_WEBHOOK_URL');
    const wrongToken = '999:WRONG';
    const refused = await poquan(['webhook', 'info'], {
      TELEGRAM_BOT_TOKEN: wrongToken,
      TELEGRAM_API_ROOT: telegram.url,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Telegram rejected TELEGRAM_BOT_TOKEN');
    expect(refused.stderr).not.toContain(wrongToken);
  }, 30_000);

  it('says in one line that TELEGRAM_API_ROOT cannot be reached, without the token', async () => {
    const root = `http://127.0.0.1:${await freePort()}`;
    const run = await poquan(['webhook', 'info'], { TELEGRAM_BOT_TOKEN: token, TELEGRAM_API_ROOT: root });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toBe(
      `poquan: Could not reach the Telegram Bot API at TELEGRAM_API_ROOT (${root}): connection refused (ECONNREFUSED). Check the URL and the network; \`poquan doctor\` checks every setting.\n`,
    );
  }, 30_000);
});
