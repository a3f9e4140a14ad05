import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { it } from '../fixtures/it.ts';
import { type RedisServer, startRedisServer, withoutRedis } from '../servers/redis-server.ts';
import {
  type Cleanups,
  groundedAnswer as normalAnswer,
  promptRoles,
  foundersQuestion as question,
  runCleanups,
  startDiscordHarness,
  startTelegramHarness,
  type TelegramHarness,
} from './harness.ts';

/**
 * Store faults: a SQLite file locked for writing by another process, and Redis down. Answers go on without
 * memory, the degradation is logged as a warning, and memory works again once the store is back. (The file is
 * in write-ahead-log mode, so no other process can lock readers out of it.)
 */

const roles = (bot: TelegramHarness, index: number) => promptRoles(bot.llm, index);

describe.concurrent('SQLite faults', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poquan-store-faults-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Another connection to the same SQLite file, holding its write lock until released. */
  function lockSqliteForWriting(path: string) {
    const db = new Database(path);
    db.exec('BEGIN IMMEDIATE');
    db.exec("INSERT INTO keyv (key, value) VALUES ('lock-holder', '1')");
    return () => {
      db.exec('ROLLBACK');
      db.close();
    };
  }

  it('answers with history but remembers nothing while the SQLite file is locked for writing', async ({
    cleanups,
  }) => {
    const path = join(dir, 'readonly.sqlite');
    const bot = await startTelegramHarness(cleanups, { STORE_URL: `sqlite://${path}` });
    await bot.ask(question);
    const release = lockSqliteForWriting(path);
    expect(await bot.ask('Did Liang Wenfeng finance DeepSeek himself?')).toEqual([
      expect.stringMatching(/\[1\]/),
    ]);
    expect(roles(bot, 1)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(bot.logs.entries().some((e) => e.msg === 'memory unavailable; turn not remembered')).toBe(true);
    release();
    await bot.ask('How big is the national AI fund?');
    expect(roles(bot, 2)).toEqual(['system', 'user', 'assistant', 'user']);
  });
});

describe.skipIf(withoutRedis)('Redis faults', () => {
  const local: Cleanups = [];
  afterEach(() => runCleanups(local));
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(() => redis.stop());

  it('answers without memory while Redis is down, and remembers again once it is back', async () => {
    const bot = await startTelegramHarness(local, { STORE_URL: redis.url });
    await bot.ask(question);
    await redis.stop();
    expect(await bot.ask('Did Liang Wenfeng finance DeepSeek himself?')).toEqual([
      expect.stringMatching(/\[1\]/),
    ]);
    expect(roles(bot, 1)).toEqual(['system', 'user']);
    // Memory was refused at once by the offline client, not awaited until Redis returned nor timed out.
    const unavailable = bot.logs
      .entries()
      .find((e) => e.msg === 'memory unavailable; answering without history');
    expect(JSON.stringify(unavailable?.err)).toMatch(/the client is offline|socket closed unexpectedly/i);
    await redis.start();
    await expect
      .poll(
        () =>
          bot.poquan.pingStore().then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 8000, interval: 100 },
      )
      .toBe('up');
    await bot.ask('How big is the national AI fund?');
    await bot.ask('And in US dollars?');
    expect(roles(bot, 3)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('answers on Discord while Redis is down, handling events it could not claim', async () => {
    const bot = await startDiscordHarness(local, { STORE_URL: redis.url });
    await redis.stop();
    expect(await bot.askSlash(question)).toEqual([expect.stringMatching(normalAnswer)]);
    expect(bot.logs.entries().some((e) => e.msg === 'could not claim the event; handling it anyway')).toBe(
      true,
    );
    // Degraded, not failed: a store outage is a warning, never an error.
    expect(bot.logs.errors()).toEqual([]);
    await redis.start();
  });
});
