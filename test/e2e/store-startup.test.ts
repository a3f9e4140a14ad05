import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { type FakeTelegram, startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { type PoquanProcess, runPoquan, startPoquanProcess } from '../servers/poquan-process.ts';
import { startRedisServer, withoutRedis } from '../servers/redis-server.ts';
import { ada, adaChat, type Cleanups, until } from './harness.ts';

/**
 * A SQLite store that cannot be used at start is named, not crashed on: one line naming STORE_URL and what to
 * do, a non-zero exit, no stack trace — or, with STORE_FALLBACK=memory, a start without persistent memory. A
 * read-only file starts, answers without memory, and `/readyz` says the store is not ready. Real processes.
 */

const dir = mkdtempSync(join(tmpdir(), 'poquan-store-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starting a process compiles the TypeScript first, which takes a while on a busy machine. */
const processTimeoutMs = 60_000;

const settings = {
  KNOWLEDGE_DIR: resolve('test/fixtures/knowledge-mini'),
  SHOW_REASONING: 'off',
  LOG_LEVEL: 'info',
};

let files = 0;
function junkFile(): string {
  const path = join(dir, `junk-${files++}.sqlite`);
  writeFileSync(path, randomBytes(16_384));
  return path;
}

async function fakeTelegram(cleanups: Cleanups): Promise<FakeTelegram> {
  const telegram = await startFakeTelegram({ token: '123:STORE' });
  cleanups.push(() => telegram.close());
  return telegram;
}

async function startBot(
  cleanups: Cleanups,
  telegram: FakeTelegram,
  env: Record<string, string>,
): Promise<PoquanProcess> {
  const bot = startPoquanProcess(
    { ...settings, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.url, ...env },
    dir,
  );
  cleanups.push(() => bot.stop('SIGKILL'));
  await bot.waitForLog((entry) => entry.msg === 'telegram adapter started', processTimeoutMs);
  return bot;
}

/**
 * Makes `path` read-only for this process: a mode of 0444 is enough for a normal user; root ignores modes, so
 * as root the file is also made immutable (undone by the returned function). Undefined when neither works.
 */
function makeReadOnly(path: string): (() => void) | undefined {
  chmodSync(path, 0o444);
  if (process.getuid?.() !== 0) return () => chmodSync(path, 0o644);
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return () => execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
}

describe('a SQLite file that is not a database, at start', () => {
  const expectOneLineNamingStoreUrl = (output: string) => {
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^poquan: STORE_URL: .*junk-\d+\.sqlite .*not a database.*STORE_FALLBACK=memory/,
    );
    expect(output).not.toMatch(/^\s+at /m);
  };

  it(
    'stops `poquan start` with one line naming STORE_URL and a non-zero exit',
    async () => {
      const run = await runPoquan(['start'], { ...settings, STORE_URL: `sqlite://${junkFile()}` }, dir);
      expect(run.code).not.toBe(0);
      expectOneLineNamingStoreUrl(run.stdout + run.stderr);
    },
    2 * processTimeoutMs,
  );

  it(
    'stops `poquan ask` the same way',
    async () => {
      const run = await runPoquan(
        ['ask', 'Who founded High-Flyer?'],
        { ...settings, STORE_URL: `sqlite://${junkFile()}` },
        dir,
      );
      expect(run.code).not.toBe(0);
      expectOneLineNamingStoreUrl(run.stdout + run.stderr);
    },
    2 * processTimeoutMs,
  );

  it(
    'starts without persistent memory, with a warning, when STORE_FALLBACK=memory',
    async ({ cleanups }) => {
      const telegram = await fakeTelegram(cleanups);
      const bot = await startBot(cleanups, telegram, {
        STORE_URL: `sqlite://${junkFile()}`,
        STORE_FALLBACK: 'memory',
      });
      const warning = bot.logs().find((entry) => String(entry.msg).startsWith('STORE_FALLBACK=memory'));
      expect(warning).toMatchObject({ level: 40, reason: expect.stringMatching(/not a database/) });
      telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
      await until(() => telegram.botMessages(adaChat.id).length === 1, 'an answer', processTimeoutMs);
      expect(await bot.stop()).toBe(0);
    },
    2 * processTimeoutMs,
  );

  it(
    'answers `poquan ask` without persistent memory when STORE_FALLBACK=memory',
    async () => {
      const run = await runPoquan(
        ['ask', 'Who founded High-Flyer?'],
        { ...settings, STORE_URL: `sqlite://${junkFile()}`, STORE_FALLBACK: 'memory', LOG_LEVEL: 'warn' },
        dir,
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/High-Flyer/);
      expect(run.stderr).toMatch(/running without persistent memory/);
    },
    2 * processTimeoutMs,
  );
});

describe('a read-only SQLite file', () => {
  it(
    'starts, answers without memory, and reports the store not ready',
    async ({ skip, cleanups }) => {
      const path = join(dir, 'read-only.sqlite');
      const seeded = await openStore(`sqlite://${path}`, 'poquan');
      await seeded.close();
      const restore = makeReadOnly(path);
      if (!restore) return skip('this machine cannot make a file read-only for root (no chattr)');
      cleanups.push(async () => restore());

      const telegram = await fakeTelegram(cleanups);
      const bot = await startBot(cleanups, telegram, {
        STORE_URL: `sqlite://${path}`,
        PORT: '0',
        HTTP_HOST: '127.0.0.1',
      });
      await bot.waitForLog((entry) => entry.msg === 'http server listening', processTimeoutMs);
      const port = bot.logs().find((entry) => entry.msg === 'http server listening')?.port;
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: unknown[] }).checks).toContainEqual(
        expect.objectContaining({ name: 'store', ok: false }),
      );

      telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
      await until(() => telegram.botMessages(adaChat.id).length === 1, 'an answer', processTimeoutMs);
      expect(telegram.botMessages(adaChat.id)[0]?.text).toMatch(/High-Flyer/);
      expect(bot.logs().some((entry) => entry.msg === 'memory unavailable; turn not remembered')).toBe(true);
    },
    2 * processTimeoutMs,
  );
});

describe.skipIf(withoutRedis)('a Redis that refuses the credentials in STORE_URL, at start', () => {
  const password = 'right-horse-battery-staple';
  const expectOneLine = (run: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) => {
    expect(run.code).not.toBe(0);
    const output = run.stdout + run.stderr;
    expect(output.trim().split('\n')).toEqual([expect.stringMatching(pattern)]);
    expect(output).not.toMatch(/offline/i);
    expect(output).not.toMatch(/^\s+at /m);
  };

  it(
    'stops `poquan start` with one line naming STORE_URL and the refused password, never printing it',
    async ({ cleanups }) => {
      const redis = await startRedisServer({ password });
      cleanups.push(() => redis.stop());
      const wrong = 'wrong-horse-DO-NOT-PRINT';
      const run = await runPoquan(
        ['start'],
        { ...settings, STORE_URL: `redis://:${wrong}@127.0.0.1:${redis.port}` },
        dir,
      );
      expectOneLine(
        run,
        new RegExp(
          `^poquan: STORE_URL: Redis at 127\\.0\\.0\\.1:${redis.port} refused the password in STORE_URL \\(WRONGPASS\\).*STORE_FALLBACK=memory`,
        ),
      );
      expect(run.stdout + run.stderr).not.toContain(wrong);
    },
    2 * processTimeoutMs,
  );

  it(
    'stops `poquan ask` the same way when STORE_URL gives no password, and answers with the right one',
    async ({ cleanups }) => {
      const redis = await startRedisServer({ password });
      cleanups.push(() => redis.stop());
      const question = ['ask', 'Who founded High-Flyer?'];
      const none = await runPoquan(question, { ...settings, STORE_URL: redis.url }, dir);
      expectOneLine(none, /^poquan: STORE_URL: Redis at 127\.0\.0\.1:\d+ requires a password .*\(NOAUTH\)/);
      const right = await runPoquan(
        question,
        { ...settings, STORE_URL: `redis://:${password}@127.0.0.1:${redis.port}` },
        dir,
      );
      expect(right.code).toBe(0);
      expect(right.stdout).toMatch(/High-Flyer/);
      expect(right.stdout + right.stderr).not.toContain(password);
    },
    2 * processTimeoutMs,
  );
});
