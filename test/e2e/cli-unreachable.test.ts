import { afterEach, describe, expect, it } from 'vitest';
import { startFakeLlm } from '../fakes/fake-llm.ts';
import { freePort } from '../servers/free-port.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { runPoquan } from '../servers/poquan-process.ts';

/**
 * A newcomer's `.env` with real-looking settings for a model and a store that cannot be reached: every CLI
 * command says so in one plain line naming the setting (never the key or the password, never a JSON log line
 * or a stack), a store that is down costs only memory, and a model that is down fails the command (exit 1).
 */

const fakes: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

const apiKey = 'sk-unreachable-0123456789abcdef';
const storePassword = 'hunter2-store-password';

function poquan(args: string[], env: Record<string, string>, stdin = '') {
  return runPoquan(args, { NO_COLOR: '1', LLM_API_KEY: apiKey, ...env }, cleanCwd(), stdin);
}

/** The lines the CLI addresses to its user on stderr (its own, not an answer's footer or a chat prompt). */
function poquanLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.replace(/^(you › )+/, ''))
    .filter((line) => line.startsWith('poquan:'));
}

function expectNoLogDumpOrSecret(run: { stdout: string; stderr: string }) {
  const printed = run.stdout + run.stderr;
  expect(printed).not.toMatch(/"level"|"msg"|"stack"|^ {4}at /m);
  expect(printed).not.toContain(apiKey);
  expect(printed).not.toContain(storePassword);
}

const storeLine = (port: number) =>
  `poquan: warning: STORE_URL (redis://127.0.0.1:${port}/0) cannot be used (The client is offline); answering without conversation memory, answer cache or limits.`;

const modelRefusedLine = (port: number) =>
  `poquan: Could not reach the model provider at LLM_BASE_URL (http://127.0.0.1:${port}/v1): connection refused (ECONNREFUSED). Check the URL and the network; \`poquan doctor\` checks every setting.`;

describe('poquan ask with a model it cannot reach', () => {
  it('says the provider at LLM_BASE_URL refused the connection, and exits 1', async () => {
    const port = await freePort();
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      LLM_MAX_RETRIES: '0',
      STORE_URL: 'memory://',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`${modelRefusedLine(port)}\n`);
    expectNoLogDumpOrSecret(run);
  });

  it('says the provider at LLM_BASE_URL gave no answer within LLM_TIMEOUT_MS, and exits 1', async () => {
    const llm = await startFakeLlm({ defaultReply: { hang: true } });
    fakes.push(llm);
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_BASE_URL: `${llm.url}/v1`,
      LLM_TIMEOUT_MS: '500',
      LLM_MAX_RETRIES: '0',
      STORE_URL: 'memory://',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `poquan: No answer from the model provider at LLM_BASE_URL (${llm.url}/v1) within LLM_TIMEOUT_MS (500 ms). Check the URL and the network, or raise LLM_TIMEOUT_MS.\n`,
    );
    expect(llm.requests).toHaveLength(1);
    expectNoLogDumpOrSecret(run);
  });

  it('stops `eval --answers` at the first question with that line instead of failing every question', async () => {
    const port = await freePort();
    const qaFile = new URL('../fixtures/qa.jsonl', import.meta.url).pathname;
    const run = await poquan(['eval', '--answers', '--json', '--qa', qaFile], {
      LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      LLM_MAX_RETRIES: '0',
      STORE_URL: 'memory://',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${modelRefusedLine(port)}\n`);
  });

  it('names LLM_BASE_URL and LLM_MODEL when something other than a model API answers there (404)', async () => {
    const llm = await startFakeLlm();
    fakes.push(llm);
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_BASE_URL: `${llm.url}/not-the-api`,
      LLM_MAX_RETRIES: '0',
      STORE_URL: 'memory://',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `poquan: The model provider at LLM_BASE_URL (${llm.url}/not-the-api) refused the request (HTTP 404). Check LLM_BASE_URL (the API root /chat/completions hangs off, often ending in /v1) and LLM_MODEL (deepseek-flash); \`poquan doctor\` tells which is wrong.\n`,
    );
    expectNoLogDumpOrSecret(run);
  });
});

describe('poquan with a Redis it cannot reach', () => {
  it('still answers `ask`, after one plain line naming STORE_URL without its password', async () => {
    const port = await freePort();
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_API_KEY: '',
      STORE_URL: `redis://:${storePassword}@127.0.0.1:${port}/0`,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Liang Wenfeng');
    expect(poquanLines(run.stderr)).toEqual([storeLine(port)]);
    expectNoLogDumpOrSecret(run);
  });

  it('keeps the JSON log when LOG_LEVEL asks for one', async () => {
    const port = await freePort();
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_API_KEY: '',
      STORE_URL: `redis://127.0.0.1:${port}/0`,
      LOG_LEVEL: 'warn',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Liang Wenfeng');
    const logged = run.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; err?: { type: string } });
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 40, err: expect.objectContaining({ type: 'StoreError' }) }),
    );
  });

  it('says both, once each, when neither the model nor the store can be reached', async () => {
    const [modelPort, storePort] = [await freePort(), await freePort()];
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
      LLM_MAX_RETRIES: '0',
      STORE_URL: `redis://:${storePassword}@127.0.0.1:${storePort}/0`,
    });
    expect(run.code).toBe(1);
    expect(poquanLines(run.stderr)).toEqual([storeLine(storePort), modelRefusedLine(modelPort)]);
    expectNoLogDumpOrSecret(run);
  });

  it('keeps `poquan chat` going: the store once, the model at each question, STORE_URL for a command that needs it', async () => {
    const [modelPort, storePort] = [await freePort(), await freePort()];
    const run = await poquan(
      ['chat', '--conversation', 'offline-faults'],
      {
        LLM_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
        LLM_MAX_RETRIES: '0',
        STORE_URL: `redis://:${storePassword}@127.0.0.1:${storePort}/0`,
      },
      'Who founded DeepSeek?\nWho founded High-Flyer?\n/reset\n/exit\n',
    );
    expect(run.code).toBe(0);
    expect(poquanLines(run.stderr)).toEqual([
      storeLine(storePort),
      modelRefusedLine(modelPort),
      modelRefusedLine(modelPort),
      `poquan: STORE_URL (redis://127.0.0.1:${storePort}/0) cannot be used (store delete failed: The client is offline).`,
    ]);
    expectNoLogDumpOrSecret(run);
  });
});

describe('poquan doctor with a model and a store it cannot reach', () => {
  it('fails the model check with where it looked and why, and the store check naming STORE_URL', async () => {
    const [modelPort, storePort] = [await freePort(), await freePort()];
    const run = await poquan(['doctor'], {
      KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
      LLM_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
      STORE_URL: `redis://:${storePassword}@127.0.0.1:${storePort}/0`,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `FAILED model         could not reach http://127.0.0.1:${modelPort}/v1: connection refused (ECONNREFUSED)\n       fix: check that LLM_BASE_URL is right and reachable from this machine\n`,
    );
    expect(run.stdout).toMatch(/^FAILED store .*\n +fix: .*STORE_URL/m);
    expect(run.stderr).toBe('');
    expectNoLogDumpOrSecret(run);
  });
});
