import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect } from 'vitest';
import { startFakeDiscord } from '../fakes/fake-discord.ts';
import { startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { startPoquanProcess } from '../servers/poquan-process.ts';
import type { Cleanups } from './harness.ts';

/**
 * SIGTERM ends `poquan start` in every state of the platforms, with exit code 0 once nothing was cut short:
 * also when the platform stops answering mid-run, and whatever timers or sockets a client library keeps open.
 * Each process runs with a one-second grace period; a process that never exits fails the test by its timeout.
 */

const graceMs = 1000;

/** A server on `port` that accepts connections and never answers: a platform that has gone silent. */
async function blackHole(cleanups: Cleanups, port: number): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  cleanups.push(
    () =>
      new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done(undefined));
      }),
  );
  return server;
}

async function tempDir(cleanups: Cleanups): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-shutdown-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const baseEnv = {
  KNOWLEDGE_DIR: resolve('test/fixtures/knowledge-mini'),
  STORE_URL: 'memory://',
  SHUTDOWN_GRACE_MS: String(graceMs),
  LOG_LEVEL: 'info',
};

describe('poquan start on SIGTERM', () => {
  it('exits 0 when the Telegram Bot API has gone silent', async ({ cleanups }) => {
    const telegram = await startFakeTelegram({ token: '123:SHUTDOWN' });
    const port = Number(new URL(telegram.url).port);
    const bot = startPoquanProcess(
      { ...baseEnv, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.url },
      await tempDir(cleanups),
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    await bot.waitForLog((entry) => entry.msg === 'telegram adapter started', 40_000);
    await telegram.close();
    await blackHole(cleanups, port);
    expect(await bot.stop('SIGTERM')).toBe(0);
    expect(bot.logs().map((entry) => entry.msg)).toContain('stopped');
  }, 60_000);

  it('exits 0 when the Discord gateway and API are gone', async ({ cleanups }) => {
    const discord = await startFakeDiscord();
    const bot = startPoquanProcess(
      { ...baseEnv, DISCORD_TOKEN: discord.token, DISCORD_API_BASE: discord.apiBase },
      await tempDir(cleanups),
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    await bot.waitForLog((entry) => entry.msg === 'discord adapter ready', 40_000);
    await discord.close();
    await bot
      .waitForLog((entry) => String(entry.msg).includes('gateway') || entry.level === 40, 5000)
      .catch(() => undefined);
    expect(await bot.stop('SIGTERM')).toBe(0);
    expect(bot.logs().map((entry) => entry.msg)).toContain('stopped');
  }, 60_000);
});
