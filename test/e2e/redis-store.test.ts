import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.ts';
import { createConversationMemory } from '../../src/core/memory.ts';
import { createRateLimiter } from '../../src/core/rate-limit.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';
import { type RedisServer, startRedisServer, withoutRedis } from '../servers/redis-server.ts';

let redis: RedisServer;
const opened: OpenedStore[] = [];

async function instance(namespace = 'poquan-test'): Promise<OpenedStore> {
  const store = await openStore(redis.url, namespace);
  opened.push(store);
  return store;
}

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close().catch(() => undefined)));
  await redis.stop();
});

describe.skipIf(withoutRedis)('Redis store shared by two instances', () => {
  it('continues a conversation written by instance A when read by instance B', async () => {
    const a = createConversationMemory(await instance(), { turns: 4, ttlMs: 60_000 });
    const b = createConversationMemory(await instance(), { turns: 4, ttlMs: 60_000 });
    await a.append('telegram:1', {
      question: 'q1',
      answer: 'a1',
      citations: [],
      knowledgeVersion: 'v',
      at: 1,
    });
    expect((await b.load('telegram:1')).map((t) => t.question)).toEqual(['q1']);
  });

  it('lets only one instance claim a redelivered update', async () => {
    const claims = await Promise.all(
      (await Promise.all([instance(), instance(), instance()])).map((s) => s.claimOnce('update:42', 60_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('counts one user across instances against one limit', async () => {
    const limiters = (await Promise.all([instance(), instance()])).map((s) => createRateLimiter(s, 3));
    const decisions = await Promise.all(
      Array.from({ length: 8 }, (_, i) => limiters[i % 2]?.take('telegram:7')),
    );
    expect(decisions.filter((d) => d?.allowed)).toHaveLength(3);
    const refused = decisions.find((d) => d && !d.allowed);
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: expect.any(Number) });
  });

  it('keeps namespaces apart, so two bots can share one Redis', async () => {
    const first = createConversationMemory(await instance('bot-a'), { turns: 4, ttlMs: 60_000 });
    const second = createConversationMemory(await instance('bot-b'), { turns: 4, ttlMs: 60_000 });
    await first.append('chat', {
      question: 'only a',
      answer: '',
      citations: [],
      knowledgeVersion: 'v',
      at: 1,
    });
    expect(await second.load('chat')).toEqual([]);
  });

  it('fails fast with StoreError while Redis is down, and recovers when it returns', async () => {
    const store = await instance();
    await store.ping();
    await redis.stop();
    // Refused at once by the offline client, not queued until Redis returns nor left to time out.
    for (const call of [() => store.ping(), () => store.get('anything')]) {
      const error = await call().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toMatch(/(the client is offline|socket closed unexpectedly)$/i);
    }
    await redis.start();
    await expect
      .poll(
        () =>
          store.ping().then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 8000, interval: 200 },
      )
      .toBe('up');
    await store.set('after', 1);
    expect(await store.get('after')).toBe(1);
  });
});
