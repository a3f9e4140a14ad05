import { ErrorReply } from '@redis/client';
import { DiscordAPIError, RateLimitError } from 'discord.js';
import { Api, GrammyError } from 'grammy';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { loadConfig, secretsOf } from '../../src/core/config.ts';
import { LlmError, StoreError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { freePort } from '../servers/free-port.ts';

/**
 * One serialiser, registered with the logger, for every error and payload: errors land under `err` with what
 * failed (method, code, status, kind) and without what they carry (request bodies, URLs with tokens), and
 * every configured secret is scrubbed from every line. The errors below are made by the libraries themselves.
 */

const secrets = {
  LLM_API_KEY: 'sk-secret-llm-7f1e2d3c4b5a',
  TELEGRAM_BOT_TOKEN: '424242:SECRET-telegram-Zx9Yw8Vu7AbCdEfGhIjKlMnOp',
  TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/telegram',
  TELEGRAM_WEBHOOK_SECRET: 'SECRET-webhook-hook-2b3c4d',
  DISCORD_TOKEN: 'SECRET.discord-token.Qp7Rs6Tu5',
  STORE_URL: 'redis://:SECRET-redis%40pass@127.0.0.1:6390',
};
/** Every secret value, and the parts of them that are secret on their own. */
const needles = [
  ...Object.values(secrets).filter((value) => value.includes('SECRET')),
  'SECRET-telegram',
  'SECRET-redis@pass',
  '7f1e2d3c4b5a',
];

type Line = Record<string, unknown> & { msg: string; err?: Record<string, unknown> };

function capture(configured = true) {
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    { write: (line: string) => void lines.push(line) },
    configured ? secretsOf(loadConfig(secrets)) : [],
  );
  return { logger, lines, last: () => JSON.parse(lines.at(-1) as string) as Line };
}

describe('the logger', () => {
  it('names every configured secret, the Redis password decoded and as written included', () => {
    expect(secretsOf(loadConfig(secrets)).sort()).toEqual(
      [
        secrets.LLM_API_KEY,
        secrets.TELEGRAM_BOT_TOKEN,
        secrets.TELEGRAM_WEBHOOK_SECRET,
        secrets.DISCORD_TOKEN,
        'SECRET-redis%40pass',
        'SECRET-redis@pass',
      ].sort(),
    );
    expect(secretsOf(loadConfig({}))).toEqual([]);
  });

  it('logs a grammY network failure with its cause but without the token from the request URL', async () => {
    const api = new Api(secrets.TELEGRAM_BOT_TOKEN, { apiRoot: `http://127.0.0.1:${await freePort()}` });
    const error = await api.getMe().catch((thrown: unknown) => thrown);
    const { logger, lines, last } = capture();
    logger.error({ err: error }, 'fetching updates failed');
    expect(last().err).toMatchObject({ type: 'HttpError', cause: { message: expect.any(String) } });
    // The cause quotes the URL, whose path holds the token.
    expect(JSON.stringify(last().err?.cause)).toContain('bot[redacted]');
    for (const needle of needles) expect(lines.join('')).not.toContain(needle);
  });

  it('keeps a Telegram refusal’s method, code, description and retry-after, not the payload with user text', () => {
    // As grammY builds it from the Bot API's answer.
    const error = new GrammyError(
      "Call to 'sendMessage' failed! (429: Too Many Requests: retry after 7)",
      {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 7',
        parameters: { retry_after: 7 },
      },
      'sendMessage',
      { chat_id: 42, text: 'my private question' },
    );
    const { logger, lines, last } = capture();
    logger.warn({ err: error }, 'update failed');
    expect(last().err).toMatchObject({
      type: 'GrammyError',
      method: 'sendMessage',
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      retry_after: 7,
    });
    expect(lines.join('')).not.toContain('my private question');
  });

  it('keeps Discord’s code, status and method, not the URL or body holding the interaction token and answer', () => {
    const error = new DiscordAPIError(
      { message: 'Invalid Webhook Token', code: 50027 },
      50027,
      401,
      'PATCH',
      'http://127.0.0.1:9/api/v10/webhooks/1000/secret-interaction-token/messages/@original',
      { body: { content: 'private answer' } },
    );
    const { logger, lines, last } = capture();
    logger.warn({ err: error }, 'could not edit the reply');
    expect(last().err).toMatchObject({
      type: 'DiscordAPIError',
      code: 50027,
      status: 401,
      method: 'PATCH',
      message: 'Invalid Webhook Token',
    });
    expect(lines.join('')).not.toMatch(/secret-interaction-token|private answer/);
  });

  it('keeps a Discord rate limit’s route and wait', () => {
    const error = new RateLimitError({
      timeToReset: 2000,
      limit: 5,
      method: 'POST',
      hash: 'h',
      url: 'http://127.0.0.1:9/api/v10/interactions/42/tok-abc/callback',
      route: '/interactions/:id/:token/callback',
      majorParameter: '42',
      global: false,
      retryAfter: 2000,
      sublimitTimeout: 0,
      scope: 'user',
    });
    const { logger, lines, last } = capture();
    logger.warn({ err: error }, 'rate limited');
    expect(last().err).toMatchObject({ type: 'RateLimitError', route: expect.any(String), retryAfter: 2000 });
    expect(lines.join('')).not.toContain('tok-abc');
  });

  it('keeps an OpenAI error’s status and code, and scrubs the key the provider echoes back', () => {
    const error = OpenAI.APIError.generate(
      401,
      { error: { message: `Incorrect API key provided: ${secrets.LLM_API_KEY}`, code: 'invalid_api_key' } },
      undefined,
      new Headers({ 'x-request-id': 'req_1' }),
    );
    const wrapped = new LlmError('auth', 'model provider answered 401', { status: 401, cause: error });
    const { logger, lines, last } = capture();
    logger.warn({ err: wrapped }, 'answer failed');
    expect(last().err).toMatchObject({
      type: 'LlmError',
      kind: 'auth',
      status: 401,
      cause: { type: 'AuthenticationError', status: 401, code: 'invalid_api_key', requestID: 'req_1' },
    });
    for (const needle of needles) expect(lines.join('')).not.toContain(needle);
  });

  it('scrubs the Redis password from a store failure that quotes STORE_URL', () => {
    const error = new StoreError('store read failed: WRONGPASS', {
      cause: new ErrorReply(`WRONGPASS invalid password for ${secrets.STORE_URL}`),
    });
    const { logger, lines, last } = capture();
    logger.warn({ err: error }, 'memory unavailable');
    expect(last().err).toMatchObject({ type: 'StoreError', cause: { type: 'ErrorReply' } });
    for (const needle of needles) expect(lines.join('')).not.toContain(needle);
  });

  it('scrubs secrets from the message, the payload, child bindings and errors passed any way', () => {
    const { logger, lines } = capture();
    const child = logger.child({
      webhook: `${secrets.TELEGRAM_WEBHOOK_URL}?s=${secrets.TELEGRAM_WEBHOOK_SECRET}`,
    });
    child.info(`started with ${secrets.DISCORD_TOKEN}`);
    child.info(
      { nested: { list: [secrets.LLM_API_KEY] }, reason: new Error(secrets.DISCORD_TOKEN) },
      'payload',
    );
    child.error(new Error(`lost ${secrets.STORE_URL}`));
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2] as string).err.message).toBe('lost redis://:[redacted]@127.0.0.1:6390');
    for (const needle of needles) expect(lines.join('')).not.toContain(needle);
  });

  it('scrubs platform credentials by their shape even when they were never configured', () => {
    const { logger, lines } = capture(false);
    logger.warn(
      { err: new Error('request to http://127.0.0.1:1/bot999:XYZ-abc_def/sendMessage failed') },
      'Authorization: Bot SECRET.discord-token.Qp7Rs6Tu5',
    );
    expect(lines.join('')).not.toMatch(/XYZ-abc_def|SECRET\.discord/);
  });
});
