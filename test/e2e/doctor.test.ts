import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DoctorCheck, formatDoctorReport, runDoctor } from '../../src/doctor.ts';
import { startFakeDiscord } from '../fakes/fake-discord.ts';
import { type FakeLlmOptions, startFakeLlm } from '../fakes/fake-llm.ts';
import { startFakeTelegram } from '../fakes/fake-telegram.ts';
import { freePort } from '../servers/free-port.ts';

const fakes: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fakeLlm(options: FakeLlmOptions = {}) {
  const llm = await startFakeLlm(options);
  fakes.push(llm);
  return llm;
}

function checkNamed(checks: DoctorCheck[], name: string): DoctorCheck | undefined {
  return checks.find((c) => c.name === name);
}

const base = { KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini', STORE_URL: 'memory://' };

describe('poquan doctor', () => {
  it('reports every check ok for a working offline setup', async () => {
    const checks = await runDoctor(base);
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['configuration', true],
      ['knowledge', true],
      ['store', true],
      ['model', true],
      ['context', true],
    ]);
    expect(formatDoctorReport(checks)).toMatch(/^ok {4} knowledge {5}1 file\(s\), 2 passages/m);
    expect(formatDoctorReport(checks)).toMatch(
      /^ok {4} context {7}full context: 2 passages, ~[\d.]+k? tokens ≤ budget 16k$/m,
    );
  });

  it('reaches the model endpoint when one is configured', async () => {
    const llm = await fakeLlm({ apiKey: 'sk-good' });
    const [, , , model] = await runDoctor({ ...base, LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-good' });
    expect(model).toMatchObject({ name: 'model', ok: true });
    expect(llm.requests[0]?.body).toMatchObject({ max_tokens: 1 });
  });

  it('names the fix for a rejected key without printing the key', async () => {
    const llm = await fakeLlm({ apiKey: 'sk-good' });
    const checks = await runDoctor({ ...base, LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-bad-secret' });
    const report = formatDoctorReport(checks);
    expect(checks[3]).toMatchObject({ ok: false, fix: expect.stringContaining('LLM_API_KEY') });
    expect(report).not.toContain('sk-bad-secret');
  });

  it('reports an unreachable store and an unreadable knowledge folder with their fixes', async () => {
    const checks = await runDoctor({
      KNOWLEDGE_DIR: '/nonexistent',
      STORE_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    expect(checks[1]).toMatchObject({
      name: 'knowledge',
      ok: false,
      fix: expect.stringContaining('KNOWLEDGE_DIR'),
    });
    expect(checks[2]).toMatchObject({ name: 'store', ok: false, fix: expect.stringContaining('Redis') });
  });

  it('tells what to do with a SQLite file that is not a database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'poquan-doctor-'));
    fakes.push({ close: () => rm(dir, { recursive: true, force: true }) });
    const file = join(dir, 'poquan.sqlite');
    await writeFile(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
    const store = checkNamed(await runDoctor({ ...base, STORE_URL: `sqlite://${file}` }), 'store');
    expect(store).toMatchObject({ ok: false, detail: expect.stringContaining('STORE_URL') });
    expect(store?.fix).toMatch(/move the file away or restore a backup/);
  });

  it('stops at a bad configuration, naming the variable', async () => {
    const checks = await runDoctor({ LLM_THINKING: 'sometimes' });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({
      name: 'configuration',
      ok: false,
      detail: expect.stringContaining('LLM_THINKING'),
    });
  });

  it('blames LLM_BASE_URL, not LLM_MODEL, when nothing OpenAI-compatible answers at that URL', async () => {
    const llm = await fakeLlm();
    const checks = await runDoctor({ ...base, LLM_BASE_URL: `${llm.url}/wrong/path`, LLM_API_KEY: 'sk-x' });
    const model = checkNamed(checks, 'model');
    expect(model).toMatchObject({ ok: false, fix: expect.stringContaining('LLM_BASE_URL') });
    expect(model?.fix).not.toContain('LLM_MODEL');
    expect(llm.requests.map((r) => r.path)).toEqual(['/wrong/path/chat/completions', '/wrong/path/models']);
  });

  it("blames LLM_MODEL and names the models on offer when the provider doesn't know the model", async () => {
    const llm = await fakeLlm({ models: ['deepseek-flash', 'deepseek-v4-pro'] });
    const checks = await runDoctor({ ...base, LLM_BASE_URL: llm.url, LLM_MODEL: 'deepseek-chatt' });
    expect(checkNamed(checks, 'model')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('deepseek-chatt'),
      fix: 'set LLM_MODEL to a model it offers: deepseek-flash, deepseek-v4-pro',
    });
  });

  it('blames LLM_MODEL for a 404 from a provider that lists its models without that one', async () => {
    const llm = await fakeLlm();
    llm.enqueue({ status: 404 });
    const checks = await runDoctor({ ...base, LLM_BASE_URL: llm.url, LLM_MODEL: 'gpt-none' });
    expect(checkNamed(checks, 'model')?.fix).toContain('LLM_MODEL');
  });

  it('checks TELEGRAM_BOT_TOKEN with getMe, naming the bot, or the setting when Telegram refuses it', async () => {
    const telegram = await startFakeTelegram({ token: '4242:good-token', botUsername: 'PoquanTestBot' });
    fakes.push(telegram);
    const env = { ...base, TELEGRAM_API_ROOT: telegram.url };
    const good = await runDoctor({ ...env, TELEGRAM_BOT_TOKEN: '4242:good-token' });
    expect(checkNamed(good, 'telegram')).toMatchObject({
      ok: true,
      detail: 'TELEGRAM_BOT_TOKEN is @PoquanTestBot (id 4242)',
    });

    const bad = await runDoctor({ ...env, TELEGRAM_BOT_TOKEN: '4242:revoked-secret' });
    expect(checkNamed(bad, 'telegram')).toMatchObject({
      ok: false,
      detail: 'Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)',
      fix: expect.stringContaining('@BotFather'),
    });
    expect(formatDoctorReport(bad)).not.toContain('revoked-secret');

    const garbage = await runDoctor({ ...env, TELEGRAM_BOT_TOKEN: 'garbage' });
    expect(checkNamed(garbage, 'telegram')).toMatchObject({
      ok: false,
      detail: 'Telegram rejected TELEGRAM_BOT_TOKEN (404 Not Found)',
    });
  });

  it('checks DISCORD_TOKEN and that DISCORD_APPLICATION_ID is the application the token belongs to', async () => {
    const discord = await startFakeDiscord({ token: 'discord-good', applicationId: '1000' });
    fakes.push(discord);
    const env = { ...base, DISCORD_API_BASE: discord.apiBase };
    const good = await runDoctor({ ...env, DISCORD_TOKEN: 'discord-good', DISCORD_APPLICATION_ID: '1000' });
    expect(checkNamed(good, 'discord')).toMatchObject({
      ok: true,
      detail: 'DISCORD_TOKEN is Poquan (id 1000), application 1000',
    });

    const badToken = await runDoctor({
      ...env,
      DISCORD_TOKEN: 'discord-secret-bad',
      DISCORD_APPLICATION_ID: '1000',
    });
    expect(checkNamed(badToken, 'discord')).toMatchObject({
      ok: false,
      detail: 'Discord rejected DISCORD_TOKEN (401 Unauthorized)',
      fix: expect.stringContaining('Developer Portal'),
    });
    expect(formatDoctorReport(badToken)).not.toContain('discord-secret-bad');

    const otherApp = await runDoctor({
      ...env,
      DISCORD_TOKEN: 'discord-good',
      DISCORD_APPLICATION_ID: '2000',
    });
    expect(checkNamed(otherApp, 'discord')).toMatchObject({
      ok: false,
      detail: 'DISCORD_APPLICATION_ID is 2000, but DISCORD_TOKEN belongs to application 1000',
      fix: expect.stringContaining('DISCORD_APPLICATION_ID=1000'),
    });
  });

  it('says so when a platform refuses the connection, naming its API setting', async () => {
    const port = await freePort();
    const checks = await runDoctor({
      ...base,
      TELEGRAM_BOT_TOKEN: '1:x',
      TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`,
      DISCORD_TOKEN: 'x',
      DISCORD_API_BASE: `http://127.0.0.1:${port}/api`,
    });
    expect(checkNamed(checks, 'telegram')).toMatchObject({
      ok: false,
      detail: `could not reach the Bot API at http://127.0.0.1:${port} (ECONNREFUSED)`,
      fix: expect.stringContaining('TELEGRAM_API_ROOT'),
    });
    expect(checkNamed(checks, 'discord')).toMatchObject({
      ok: false,
      detail: `could not reach Discord at http://127.0.0.1:${port}/api (ECONNREFUSED)`,
      fix: expect.stringContaining('DISCORD_API_BASE'),
    });
  });
});
