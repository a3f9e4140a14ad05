import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EnvSchema, loadConfig } from '../../src/core/config.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { providerPresets } from '../../src/core/providers.ts';

describe('configuration', () => {
  it('defaults to DeepSeek in offline mode with an embedded SQLite store when nothing is set', () => {
    const config = loadConfig({});
    expect(config.llm).toMatchObject({
      mode: 'offline',
      provider: 'deepseek',
      baseUrl: providerPresets.deepseek.baseUrl,
      model: 'deepseek-flash',
      thinking: true,
    });
    expect(config.storeUrl).toBe('sqlite://data/poquan.sqlite');
    expect(config.knowledgeDir).toBe('knowledge');
    expect(config.maxQuestionChars).toBe(1000);
  });

  it('switches to the model when an API key is set, and lets base URL and model override the preset', () => {
    const config = loadConfig({
      LLM_PROVIDER: 'qwen',
      LLM_API_KEY: 'sk-x',
      LLM_MODEL: 'qwen-custom',
      LLM_BASE_URL: 'http://127.0.0.1:9/v1/',
      LLM_THINKING: 'off',
    });
    expect(config.llm).toMatchObject({
      mode: 'llm',
      provider: 'qwen',
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'qwen-custom',
      thinking: false,
    });
  });

  it('uses the model without a key when a base URL is given or the provider is local', () => {
    expect(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:1234' }).llm.mode).toBe('llm');
    expect(loadConfig({ LLM_PROVIDER: 'ollama' }).llm).toMatchObject({
      mode: 'llm',
      baseUrl: 'http://localhost:11434/v1',
    });
  });

  it('treats empty variables as unset, as .env files often leave them', () => {
    expect(loadConfig({ LLM_API_KEY: '', MAX_QUESTION_CHARS: '' }).llm.mode).toBe('offline');
  });

  it('treats an empty value as unset for every setting', () => {
    const unset = loadConfig({});
    for (const setting of Object.keys(EnvSchema.shape)) {
      expect(loadConfig({ [setting]: '' }), setting).toEqual(unset);
    }
  });

  it("takes an entry point's fallback when a setting is unset or empty; a value in the environment wins", () => {
    const image = { PORT: '8080' };
    expect(loadConfig({}, image).http).toEqual({ port: 8080, host: '0.0.0.0' });
    expect(loadConfig({ PORT: '' }, image).http).toEqual({ port: 8080, host: '0.0.0.0' });
    expect(loadConfig({ PORT: '9000' }, image).http?.port).toBe(9000);
    expect(loadConfig({ PORT: '' }).http).toBeUndefined();
  });

  it('names every bad variable in one error', () => {
    expect(() =>
      loadConfig({ LLM_PROVIDER: 'gpt', MAX_QUESTION_CHARS: 'lots', LLM_THINKING: 'maybe' }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ LLM_PROVIDER: 'gpt', MAX_QUESTION_CHARS: 'lots', LLM_THINKING: 'maybe' });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('LLM_PROVIDER');
      expect(message).toContain('MAX_QUESTION_CHARS');
      expect(message).toContain('LLM_THINKING');
      expect(message.split('\n')).toHaveLength(1);
    }
  });

  it('never echoes the value of a malformed setting', () => {
    const secret = 'sk-live-DO-NOT-PRINT-1234567890';
    expect(() => loadConfig({ LLM_BASE_URL: secret, TELEGRAM_ALLOWED_CHAT_IDS: secret })).toThrow(
      /LLM_BASE_URL/,
    );
    try {
      loadConfig({ LLM_BASE_URL: secret, TELEGRAM_ALLOWED_CHAT_IDS: secret, STORE_URL: secret });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });

  it('refuses negative or non-numeric budgets and prices at start-up, naming the setting', () => {
    expect(() => loadConfig({ BUDGET_USER_DAILY_TOKENS: '-5' })).toThrow(
      'Invalid configuration: BUDGET_USER_DAILY_TOKENS: must be 0 (no budget) or more',
    );
    expect(() => loadConfig({ BUDGET_DAILY_TOKENS: 'lots' })).toThrow(
      'Invalid configuration: BUDGET_DAILY_TOKENS: must be a whole number of tokens',
    );
    expect(() => loadConfig({ BUDGET_DAILY_TOKENS: '1.5' })).toThrow(/BUDGET_DAILY_TOKENS: must be a whole/);
    expect(() => loadConfig({ BUDGET_RESET_UTC_HOUR: '24' })).toThrow(/BUDGET_RESET_UTC_HOUR/);
    expect(() => loadConfig({ LLM_PRICE_INPUT_PER_M: '-1', LLM_PRICE_OUTPUT_PER_M: '1' })).toThrow(
      /LLM_PRICE_INPUT_PER_M: must not be negative/,
    );
    expect(() => loadConfig({ LLM_PRICE_CURRENCY: 'CNY' })).toThrow(
      /LLM_PRICE_INPUT_PER_M: is required when any LLM_PRICE_\* setting is set/,
    );
    expect(() => loadConfig({ DEFAULT_LANGUAGE: 'fr' })).toThrow(/DEFAULT_LANGUAGE/);
  });

  it('reads budgets, with 0 or empty meaning no budget', () => {
    expect(loadConfig({}).budget).toEqual({
      userDailyTokens: undefined,
      dailyTokens: undefined,
      resetUtcHour: 0,
      exemptAdmins: false,
      countCachedTokens: 'full',
    });
    const config = loadConfig({
      BUDGET_USER_DAILY_TOKENS: '20000',
      BUDGET_DAILY_TOKENS: '0',
      BUDGET_RESET_UTC_HOUR: '16',
      BUDGET_EXEMPT_ADMINS: 'true',
      BUDGET_COUNT_CACHED_TOKENS: 'none',
    });
    expect(config.budget).toEqual({
      userDailyTokens: 20_000,
      dailyTokens: undefined,
      resetUtcHour: 16,
      exemptAdmins: true,
      countCachedTokens: 'none',
    });
  });

  it('parses allowlists into id arrays', () => {
    const config = loadConfig({ TELEGRAM_ALLOWED_CHAT_IDS: '12, -100345 ,', DISCORD_ALLOWED_GUILD_IDS: '9' });
    expect(config.telegram.allowedChatIds).toEqual(['12', '-100345']);
    expect(config.discord.allowedGuildIds).toEqual(['9']);
  });
});

describe('.env.example', () => {
  it('documents every setting the schema reads, and nothing else', async () => {
    const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it('parses as a valid configuration when copied as is', async () => {
    const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    const env = Object.fromEntries(
      [...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(loadConfig(env).llm.mode).toBe('offline');
  });

  it("serves HTTP on the image's port when passed whole to `docker run --env-file`, though it leaves PORT empty", async () => {
    const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    const env = Object.fromEntries(
      [...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(env.PORT).toBe('');
    // The Dockerfile's start command: `poquan start --default-port 8080`.
    expect(loadConfig(env, { PORT: '8080' }).http).toEqual({ port: 8080, host: '0.0.0.0' });
  });
});
