import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { Update } from 'grammy/types';
import { describe, expect } from 'vitest';
import { askedQuestion, type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';
import { type FakeChat, type FakeTelegram, startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { freePort } from '../servers/free-port.ts';
import { startLoadBalancer } from '../servers/load-balancer.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { type PoquanProcess, startPoquanProcess } from '../servers/poquan-process.ts';
import { startRedisServer, withoutRedis } from '../servers/redis-server.ts';
import type { Cleanups } from './harness.ts';
import {
  secret,
  startWebhookCluster,
  token,
  type WebhookInstance,
  webhookInstanceSettings,
  webhookPath,
} from './webhook-cluster.ts';

/**
 * Webhook mode is at-least-once across instances and kills: `poquan start` processes behind a load balancer,
 * killed with SIGKILL while the fake model is still thinking about ten updates they had acknowledged, lose
 * none of them — the same instance restarted, or another one still alive, answers each exactly once once the
 * killed holder's lease has run out — and Telegram re-posting the same updates changes nothing. One chat's
 * questions are answered in order even when the balancer spreads them over two instances. An instance that
 * stalls past its lease while answering leaves the update to the one that took it over.
 */

const leaseMs = 1500;
/** The model of a doomed instance: nothing comes back before the kill. */
const thinkingForever = { firstTokenDelayMs: 60_000 };
const chats: FakeChat[] = Array.from({ length: 10 }, (_, i) => ({
  id: 7001 + i,
  type: 'private' as const,
  first_name: `Reader ${i + 1}`,
}));
const readerOf = (chat: FakeChat) => ({
  id: chat.id,
  is_bot: false,
  first_name: 'Reader',
  language_code: 'en',
});
const questionOf = (chat: FakeChat) => `Who founded High-Flyer? (asked by ${chat.id})`;

/** The fakes and the balancer one deployment needs, and a way to start its instances as processes. */
async function deployment(cleanups: Cleanups, storeUrl: string) {
  const telegram = await startFakeTelegram({ token });
  cleanups.push(() => telegram.close());
  const lb = await startLoadBalancer();
  cleanups.push(() => lb.close());
  return {
    telegram,
    lb,
    /** Starts `poquan start` on `port` with its model `llm`, and puts it behind the balancer once it listens. */
    async start(llm: FakeLlm, port?: number): Promise<{ process: PoquanProcess; port: number }> {
      const at = port ?? (await freePort());
      const process = startPoquanProcess(
        {
          ...webhookInstanceSettings({
            llmUrl: llm.url,
            telegramUrl: telegram.url,
            webhookUrl: `${lb.url}${webhookPath}`,
          }),
          STORE_URL: storeUrl,
          TELEGRAM_WEBHOOK_LEASE_MS: String(leaseMs),
          PORT: String(at),
          LOG_LEVEL: 'info',
        },
        cleanCwd(),
      );
      cleanups.push(() => process.stop('SIGKILL'));
      await process.waitForLog((entry) => entry.msg === 'http server listening', 30_000);
      const backend = `http://127.0.0.1:${at}`;
      if (!lb.backends.includes(backend)) lb.backends.push(backend);
      return { process, port: at };
    },
    /**
     * Posts `update` through the balancer as Telegram does, again when a delivery got no answer at all (a
     * keep-alive connection the balancer closed just then); resolves with the status the webhook answered.
     */
    async post(update: Update): Promise<number> {
      let status = 0;
      for (let attempt = 0; attempt < 3 && status === 0; attempt++) {
        status = await telegram.deliverUpdate(update, { url: `${lb.url}${webhookPath}`, secret });
      }
      return status;
    },
  };
}

async function fakeLlm(cleanups: Cleanups): Promise<FakeLlm> {
  const llm = await startFakeLlm();
  cleanups.push(() => llm.close());
  return llm;
}

/** Each chat's answers, as texts. */
const answersIn = (telegram: FakeTelegram) =>
  chats.map((chat) => telegram.botMessages(chat.id).map((message) => message.text));

/** Waits until every chat has an answer, then long enough for any duplicate (two leases) to show up too. */
async function everyChatAnswered(telegram: FakeTelegram): Promise<string[][]> {
  await telegram.waitFor(() => answersIn(telegram).every((answers) => answers.length > 0), 30_000);
  await new Promise((resolve) => setTimeout(resolve, 2 * leaseMs));
  return answersIn(telegram);
}

/** Posts one question from each chat and waits until all ten are acknowledged and at the instance's model. */
async function tenQuestionsInFlight(bot: Awaited<ReturnType<typeof deployment>>, llm: FakeLlm) {
  const updates = chats.map((chat) =>
    bot.telegram.makeMessageUpdate({ chat, from: readerOf(chat), text: questionOf(chat) }),
  );
  expect(await Promise.all(updates.map(bot.post))).toEqual(updates.map(() => 200));
  await bot.telegram.waitFor(() => llm.requests.length === 10, 20_000);
  return updates;
}

/** The question each of `llm`'s requests asked. */
const questionsAsked = (llm: FakeLlm) =>
  llm.requests.map((request) => {
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    return askedQuestion(messages.at(-1)?.content ?? '');
  });

/** A SQLite file of its own, in the folder test/setup.ts removes after the file's tests. */
const sqliteUrl = () => `sqlite://${mkdtempSync(join(cleanCwd(), 'store-'))}/poquan.sqlite`;

const stores = [
  {
    name: 'SQLite',
    skip: false,
    url: async () => sqliteUrl(),
  },
  {
    name: 'Redis',
    skip: withoutRedis,
    url: async (cleanups: Cleanups) => {
      const redis = await startRedisServer();
      cleanups.push(() => redis.stop());
      return redis.url;
    },
  },
];

for (const store of stores) {
  describe.skipIf(store.skip)(`webhook mode on ${store.name}, killed with SIGKILL`, () => {
    it('answers all ten acknowledged updates exactly once after a restart, though Telegram re-posts them', async ({
      cleanups,
    }) => {
      const bot = await deployment(cleanups, await store.url(cleanups));
      const llm = await fakeLlm(cleanups);
      llm.setDefault(thinkingForever);
      const first = await bot.start(llm);
      const updates = await tenQuestionsInFlight(bot, llm);

      expect(await first.process.stop('SIGKILL')).toBeNull();
      expect(answersIn(bot.telegram).flat()).toEqual([]);
      llm.setDefault({});
      await bot.start(llm, first.port);
      // Telegram posts every update again (the restarted instance holds none of them yet): none is dropped.
      expect(await Promise.all(updates.map(bot.post))).toEqual(updates.map(() => 200));

      const answers = await everyChatAnswered(bot.telegram);
      expect(answers.map((texts) => texts.length)).toEqual(chats.map(() => 1));
      for (const texts of answers) expect(texts[0]).toMatch(/^According to the knowledge file, .*\[1\]/);
      // Ten questions asked by the killed instance, the same ten again by the restarted one.
      expect(questionsAsked(llm).slice(10).sort()).toEqual(chats.map(questionOf).sort());
      expect(llm.requests).toHaveLength(20);
    }, 60_000);

    it('lets a second live instance take over all ten, answering each once though Telegram re-posts them', async ({
      cleanups,
    }) => {
      const bot = await deployment(cleanups, await store.url(cleanups));
      const doomedLlm = await fakeLlm(cleanups);
      doomedLlm.setDefault(thinkingForever);
      const doomed = await bot.start(doomedLlm);
      const updates = await tenQuestionsInFlight(bot, doomedLlm);

      const survivorLlm = await fakeLlm(cleanups);
      const survivor = await bot.start(survivorLlm);
      expect(await doomed.process.stop('SIGKILL')).toBeNull();
      bot.lb.backends.splice(0, 1);
      // Re-posted while the dead instance's lease still runs, and again after the survivor has answered.
      expect(await Promise.all(updates.map(bot.post))).toEqual(updates.map(() => 200));
      await everyChatAnswered(bot.telegram);
      expect(await Promise.all(updates.map(bot.post))).toEqual(updates.map(() => 200));

      const answers = await everyChatAnswered(bot.telegram);
      expect(answers.map((texts) => texts.length)).toEqual(chats.map(() => 1));
      expect(questionsAsked(survivorLlm).sort()).toEqual(chats.map(questionOf).sort());
      expect(survivor.process.logs().filter((entry) => entry.msg === 'answered')).toHaveLength(10);
    }, 60_000);
  });

  describe.skipIf(store.skip)(`webhook mode on ${store.name}, an instance stalled past its lease`, () => {
    it('leaves the update to the instance that took it over, taking back the message it sent meanwhile', async ({
      cleanups,
    }) => {
      const bot = await deployment(cleanups, await store.url(cleanups));
      const stalledLlm = await fakeLlm(cleanups);
      const stalled = await bot.start(stalledLlm);
      const chat = chats[0] as FakeChat;
      const update = bot.telegram.makeMessageUpdate({ chat, from: readerOf(chat), text: questionOf(chat) });
      // Its answer reaches the chat, and the process stops (SIGSTOP) before it reads Telegram's reply: it
      // neither records the message nor renews its lease, so the queue hands the update to another instance.
      const sent = bot.telegram.holdNext('sendMessage');
      expect(await bot.post(update)).toBe(200);
      await sent.arrived;
      stalled.process.child.kill('SIGSTOP');
      const takerLlm = await fakeLlm(cleanups);
      const taker = await bot.start(takerLlm);
      await taker.process.waitForLog((entry) => entry.msg === 'delivered', 20_000);
      expect(bot.telegram.botMessages(chat.id)).toHaveLength(2);

      // The stalled process wakes up and reads the reply to its message: it takes the message back and stops.
      stalled.process.child.kill('SIGCONT');
      sent.release();
      const ends = ['delivered', 'a later attempt took the update over; this one stops'];
      await stalled.process.waitForLog((entry) => ends.includes(String(entry.msg)), 20_000);
      const shown = bot.telegram.botMessages(chat.id);
      expect(shown.map((message) => message.text)).toEqual([
        expect.stringMatching(/^According to the knowledge file, .*\[1\]/),
      ]);
      expect(shown[0]?.reply_markup).toBeDefined();
      expect(stalled.process.logs().filter((entry) => ends.includes(String(entry.msg)))).toEqual([
        expect.objectContaining({ msg: 'a later attempt took the update over; this one stops' }),
      ]);
      expect(takerLlm.requests).toHaveLength(1);
    }, 60_000);
  });

  describe.skipIf(store.skip)(`two webhook instances on ${store.name}`, () => {
    it("answer one chat's questions in order, each seeing the answers before it", async ({ cleanups }) => {
      const storeUrl = await store.url(cleanups);
      const cluster = await startWebhookCluster({
        instances: 2,
        cleanups,
        env: {
          STORE_URL: storeUrl,
          STORE_NAMESPACE: 'order-test',
          TELEGRAM_WEBHOOK_LEASE_MS: String(leaseMs),
        },
        logLevel: 'info',
      });
      const [a, b] = cluster.instances as [WebhookInstance, WebhookInstance];
      const slow = { chunkChars: 6, chunkDelayMs: 30 };
      a.llm.setDefault(slow);
      b.llm.setDefault(slow);
      const chat = chats[0] as FakeChat;
      const questions = [
        'Who founded High-Flyer?',
        'What did he finance later?',
        'How big is the state AI fund?',
      ];
      const updates = questions.map((text) =>
        cluster.telegram.makeMessageUpdate({ chat, from: readerOf(chat), text }),
      );
      // Posted at once, through the balancer: the first and third reach A, the second B.
      const statuses = await Promise.all(
        updates.map((update) =>
          cluster.telegram.deliverUpdate(update, { url: `${cluster.lb.url}${webhookPath}` }),
        ),
      );
      expect(statuses).toEqual([200, 200, 200]);
      expect(cluster.lb.forwarded).toEqual([0, 1, 0]);

      await cluster.messagesOnce(chat.id, 3, 20_000);
      // Each question reached a model with every earlier question of the chat (and its answer) before it.
      const asked = [...a.llm.requests, ...b.llm.requests].map((request) =>
        (request.body.messages as Array<{ role: string; content: string }>)
          .filter((message) => message.role === 'user')
          .map((message) => askedQuestion(message.content)),
      );
      expect(asked.sort((x, y) => x.length - y.length)).toEqual([
        questions.slice(0, 1),
        questions.slice(0, 2),
        questions,
      ]);
      expect(cluster.telegram.botMessages(chat.id)).toHaveLength(3);
    }, 60_000);
  });
}

describe('a group preview left by a killed webhook instance', () => {
  it('is edited into the answer by the instance that answers the update again, not left frozen', async ({
    cleanups,
  }) => {
    const bot = await deployment(cleanups, sqliteUrl());
    const llm = await fakeLlm(cleanups);
    llm.setDefault({ content: 'Liang Wenfeng founded High-Flyer [1]. '.repeat(20), chunkDelayMs: 100 });
    const first = await bot.start(llm);
    const group: FakeChat = { id: -100_777, type: 'supergroup', title: 'AI watchers' };
    const update = bot.telegram.makeMessageUpdate({
      chat: group,
      from: readerOf(chats[0] as FakeChat),
      text: '/ask Who founded High-Flyer?',
    });
    expect(await bot.post(update)).toBe(200);
    // Killed once the preview has grown by an edit: the message it sent is recorded by then.
    const [preview] = await bot.telegram.waitFor(() => {
      const shown = bot.telegram.botMessages(group.id);
      return (shown[0]?.edits ?? 0) > 0 && shown;
    }, 20_000);
    expect(await first.process.stop('SIGKILL')).toBeNull();
    const frozen = { id: preview?.message_id, text: preview?.text };
    expect(frozen.text).not.toMatch(/Sources/);

    llm.setDefault({});
    await bot.start(llm, first.port);
    await bot.telegram.waitFor(
      () => bot.telegram.botMessages(group.id).some((m) => /Sources/.test(m.text)),
      30_000,
    );
    const shown = bot.telegram.botMessages(group.id);
    expect(shown).toHaveLength(1);
    expect(shown[0]?.message_id).toBe(frozen.id);
    expect(shown[0]?.text).toMatch(/^According to the knowledge file, .*\[1\]/);
  }, 60_000);
});
