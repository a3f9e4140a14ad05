import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect } from 'vitest';
import { startFakeDiscord } from '../fakes/fake-discord.ts';
import { fakeUser } from '../fakes/fake-discord-fixtures.ts';
import { startFakeLlm } from '../fakes/fake-llm.ts';
import { startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { startPoquanProcess } from '../servers/poquan-process.ts';
import { ada, adaChat, until } from './harness.ts';

/**
 * Secrets are read from the environment or `.env` and never leave the process except where they belong: the
 * model key in the model request's Authorization header, the bot tokens in the platforms' auth. The real
 * `poquan start` runs with known fake secrets through answers and failures, then every line it wrote and
 * every request body the three fakes recorded is searched for them.
 */

const secrets = {
  LLM_API_KEY: 'sk-secret-llm-7f1e2d3c4b5a',
  TELEGRAM_BOT_TOKEN: '424242:SECRET-telegram-Zx9Yw8Vu7',
  DISCORD_TOKEN: 'SECRET.discord-token.Qp7Rs6Tu5',
};
/** Each secret, and the part of each token that is secret on its own. */
const needles = [...Object.values(secrets), 'SECRET-telegram-Zx9Yw8Vu7', '7f1e2d3c4b5a'];

describe('secrets', () => {
  it('appear in no log line and no request body, through answers and failures on both platforms', async ({
    cleanups,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), 'poquan-secrets-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const telegram = await startFakeTelegram({ token: secrets.TELEGRAM_BOT_TOKEN });
    cleanups.push(() => telegram.close());
    const discord = await startFakeDiscord({ token: secrets.DISCORD_TOKEN });
    cleanups.push(() => discord.close());
    const llm = await startFakeLlm({ apiKey: secrets.LLM_API_KEY });
    cleanups.push(() => llm.close());
    // The Discord token comes from .env, the others from the environment.
    await writeFile(join(dir, '.env'), `DISCORD_TOKEN=${secrets.DISCORD_TOKEN}\n`);

    const bot = startPoquanProcess(
      {
        TELEGRAM_BOT_TOKEN: secrets.TELEGRAM_BOT_TOKEN,
        TELEGRAM_API_ROOT: telegram.url,
        DISCORD_API_BASE: discord.apiBase,
        LLM_API_KEY: secrets.LLM_API_KEY,
        LLM_BASE_URL: llm.url,
        LLM_MAX_RETRIES: '0',
        STORE_URL: 'memory://',
        KNOWLEDGE_DIR: resolve('test/fixtures/knowledge-mini'),
        RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'trace',
      },
      dir,
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    await bot.waitForLog((entry) => entry.msg === 'telegram adapter started');
    await bot.waitForLog((entry) => entry.msg === 'discord adapter ready');
    const sentToAda = () => telegram.botMessages(adaChat.id).length;

    // Telegram: an answer, a model that rejects the key, a connection that drops on every try.
    telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await until(() => sentToAda() === 1, 'an answer on Telegram', 10_000);
    llm.enqueue({ status: 401 });
    telegram.pushMessage({ chat: adaChat, from: ada, text: 'Did Liang Wenfeng finance DeepSeek himself?' });
    await until(() => sentToAda() === 2, 'the auth failure message', 10_000);
    telegram.failNext('sendMessage', 3, 'disconnect');
    telegram.pushMessage({ chat: adaChat, from: ada, text: 'How big is the national AI fund?' });
    await bot.waitForLog(
      (entry) => entry.msg === 'update failed' && JSON.stringify(entry).includes('HttpError'),
    );

    // Discord: an answer, then an interaction whose token expires mid-answer.
    const asker = fakeUser();
    const first = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek?' },
    });
    await discord.waitForRequest(
      (r) => r.path.includes(first.token) && String(r.body?.content).includes('-# Sources'),
      10_000,
    );
    llm.enqueue({ content: 'Liang Wenfeng founded DeepSeek [1].', firstTokenDelayMs: 300 });
    const second = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who financed DeepSeek?' },
    });
    await discord.waitForRequest((r) => r.path.endsWith('/callback') && r.path.includes(second.token));
    discord.expireInteraction(second.token);
    await discord.waitForRequest((r) => r.method === 'POST' && r.path.startsWith('/channels/'), 10_000);
    await bot.waitForLog((entry) => JSON.stringify(entry).includes('50027'));
    expect(await bot.stop('SIGTERM')).toBe(0);

    expect(llm.requests.length).toBeGreaterThanOrEqual(4);
    expect(llm.requests.every((r) => r.headers.authorization === `Bearer ${secrets.LLM_API_KEY}`)).toBe(true);
    expect(
      discord.requests
        .filter((r) => !r.path.startsWith('/webhooks/') && !r.path.startsWith('/interactions/'))
        .every((r) => r.authorized),
    ).toBe(true);
    const bodies = [
      ...llm.requests.map((r) => JSON.stringify(r.body ?? null)),
      ...telegram.calls.map((c) => JSON.stringify(c.body ?? null)),
      ...discord.requests.map((r) => JSON.stringify(r.body ?? null)),
    ];
    const everything = [...bot.lines, ...bodies];
    // The failures did reach the log — the places where a careless error dump would carry a secret.
    const log = bot.lines.join('\n');
    for (const failure of ['"kind":"auth"', 'HttpError', '"code":50027']) expect(log).toContain(failure);
    for (const needle of needles) {
      expect(everything.filter((text) => text.includes(needle))).toEqual([]);
    }
  }, 30_000);

  it('are not echoed when Telegram rejects the token at start-up', async ({ cleanups }) => {
    const telegram = await startFakeTelegram({ token: '1:the-right-token' });
    cleanups.push(() => telegram.close());
    const dir = await mkdtemp(join(tmpdir(), 'poquan-secrets-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const bot = startPoquanProcess(
      {
        TELEGRAM_BOT_TOKEN: secrets.TELEGRAM_BOT_TOKEN,
        TELEGRAM_API_ROOT: telegram.url,
        STORE_URL: 'memory://',
        KNOWLEDGE_DIR: resolve('test/fixtures/knowledge-mini'),
      },
      dir,
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    expect(await bot.exited).toBe(1);
    expect(bot.lines.join('\n')).toMatch(
      /Telegram rejected TELEGRAM_BOT_TOKEN at start \(401 Unauthorized\)/,
    );
    for (const needle of needles) expect(bot.lines.join('\n')).not.toContain(needle);
  });

  it('are not echoed when Discord rejects the token at start-up, and the line names DISCORD_TOKEN', async ({
    cleanups,
  }) => {
    const discord = await startFakeDiscord({ token: 'the-right-discord-token' });
    cleanups.push(() => discord.close());
    const dir = await mkdtemp(join(tmpdir(), 'poquan-secrets-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const bot = startPoquanProcess(
      {
        DISCORD_TOKEN: secrets.DISCORD_TOKEN,
        DISCORD_API_BASE: discord.apiBase,
        STORE_URL: 'memory://',
        KNOWLEDGE_DIR: resolve('test/fixtures/knowledge-mini'),
      },
      dir,
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    expect(await bot.exited).toBe(1);
    const output = bot.lines.join('\n');
    expect(output).toContain(
      'poquan: Discord rejected DISCORD_TOKEN at start (401 Unauthorized). Check the bot token in the Developer Portal',
    );
    expect(output).not.toContain('while answering');
    for (const needle of needles) expect(output).not.toContain(needle);
  }, 30_000);

  it('stay out of git: .env and its variants are ignored, .env.example is not', () => {
    const ignored = (path: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', '--no-index', path]);
        return true;
      } catch {
        return false;
      }
    };
    expect(ignored('.env')).toBe(true);
    expect(ignored('.env.local')).toBe(true);
    expect(ignored('.env.production')).toBe(true);
    expect(ignored('.env.example')).toBe(false);
  });
});
