import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { describeCliError } from '../../src/adapters/cli/errors.ts';
import { loadConfig } from '../../src/core/config.ts';
import { StoreError } from '../../src/core/errors.ts';
import { createOpenAiLlm, toLlmError } from '../../src/llm/openai-client.ts';
import { freePort } from '../servers/free-port.ts';

/**
 * At the terminal the reader is the operator: a model failure the settings explain is said with the settings
 * (LLM_BASE_URL, LLM_TIMEOUT_MS, LLM_MODEL), a store failure with STORE_URL, never with a key or a password.
 * The model errors below are the ones the real client raises against loopback servers.
 */

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** What the real client throws when asked for an answer at `baseUrl`. */
async function failureAt(settings: Record<string, string>): Promise<unknown> {
  const config = loadConfig({ LLM_API_KEY: 'sk-key-never-shown', LLM_MAX_RETRIES: '0', ...settings });
  try {
    for await (const _ of createOpenAiLlm(config.llm).streamChat([{ role: 'user', content: 'hi' }])) void _;
  } catch (error) {
    return error;
  }
  throw new Error('the model answered');
}

function describeWith(settings: Record<string, string>, error: unknown): string {
  return describeCliError(error, loadConfig({ LLM_API_KEY: 'sk-key-never-shown', ...settings }));
}

describe('describeCliError for a model failure', () => {
  it('names LLM_BASE_URL and the socket error when nothing listens there', async () => {
    const settings = { LLM_BASE_URL: `http://127.0.0.1:${await freePort()}/v1` };
    expect(describeWith(settings, await failureAt(settings))).toBe(
      `Could not reach the model provider at LLM_BASE_URL (${settings.LLM_BASE_URL}): connection refused (ECONNREFUSED). Check the URL and the network; \`poquan doctor\` checks every setting.`,
    );
  });

  it('names LLM_BASE_URL and LLM_TIMEOUT_MS when the connection is taken but nothing answers', async () => {
    const port = await listen(createServer((socket) => sockets.add(socket)));
    const settings = { LLM_BASE_URL: `http://127.0.0.1:${port}/v1`, LLM_TIMEOUT_MS: '200' };
    expect(describeWith(settings, await failureAt(settings))).toBe(
      `No answer from the model provider at LLM_BASE_URL (${settings.LLM_BASE_URL}) within LLM_TIMEOUT_MS (200 ms). Check the URL and the network, or raise LLM_TIMEOUT_MS.`,
    );
  });

  it('names LLM_BASE_URL and LLM_MODEL when the endpoint answers 404', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(404).end()));
    const settings = { LLM_BASE_URL: `http://127.0.0.1:${port}`, LLM_MODEL: 'deepseek-v4-pro' };
    expect(describeWith(settings, await failureAt(settings))).toBe(
      `The model provider at LLM_BASE_URL (${settings.LLM_BASE_URL}) refused the request (HTTP 404). Check LLM_BASE_URL (the API root /chat/completions hangs off, often ending in /v1) and LLM_MODEL (deepseek-v4-pro); \`poquan doctor\` tells which is wrong.`,
    );
  });

  it("keeps the chat user's sentence for a provider that answers 503, and for every failure without settings", async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(503).end()));
    const settings = { LLM_BASE_URL: `http://127.0.0.1:${port}` };
    const overloaded = await failureAt(settings);
    expect(describeWith(settings, overloaded)).toBe(
      'The model provider is unavailable at the moment. Please try again shortly.',
    );
    const refused = await failureAt({ LLM_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    expect(describeCliError(refused)).toBe(
      'The model provider is unavailable at the moment. Please try again shortly.',
    );
  });

  it('names the connect timeout of a host that drops the connection attempt (undici gives up after 10 s)', () => {
    // A blackholed address cannot be made on loopback; this is the chain undici and the SDK build for one.
    const connectTimeout = Object.assign(new Error('Connect Timeout Error'), {
      code: 'UND_ERR_CONNECT_TIMEOUT',
    });
    const sdkError = new OpenAI.APIConnectionError({
      cause: new TypeError('fetch failed', { cause: connectTimeout }),
    });
    const settings = { LLM_BASE_URL: 'http://192.0.2.1/v1' };
    expect(describeWith(settings, toLlmError(sdkError, false))).toBe(
      'Could not reach the model provider at LLM_BASE_URL (http://192.0.2.1/v1): connection timed out (UND_ERR_CONNECT_TIMEOUT). Check the URL and the network; `poquan doctor` checks every setting.',
    );
  });

  it('shows LLM_BASE_URL without the user, password or query it may hold', async () => {
    const port = await freePort();
    const settings = { LLM_BASE_URL: `http://user:url-password@127.0.0.1:${port}/v1?api-key=query-key` };
    const line = describeWith(settings, await failureAt(settings));
    expect(line).toMatch(
      new RegExp(
        `^Could not reach the model provider at LLM_BASE_URL \\(http://127\\.0\\.0\\.1:${port}/v1\\): `,
      ),
    );
    expect(line).not.toMatch(/url-password|query-key|sk-key-never-shown/);
  });
});

describe('describeCliError for a store failure', () => {
  it('names STORE_URL without its password', () => {
    const error = new StoreError('store delete failed: The client is offline');
    expect(describeWith({ STORE_URL: 'redis://:p%40ss@127.0.0.1:6390/0' }, error)).toBe(
      'STORE_URL (redis://127.0.0.1:6390/0) cannot be used (store delete failed: The client is offline).',
    );
  });
});
