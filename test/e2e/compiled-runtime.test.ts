import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm } from '../fakes/fake-llm.ts';
import { startFakeTelegram } from '../fakes/fake-telegram.ts';
import { freePort } from '../servers/free-port.ts';
import { startPoquanProcess } from '../servers/poquan-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/poquan.js');
const tracer = fileURLToPath(new URL('./trace-modules.mjs', import.meta.url));
let scratch: string;
let runs = 0;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'poquan-runtime-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface TracedRun {
  code: number | null;
  stdout: string;
  /** Every module the process loaded: file paths relative to the repository, `node:` built-ins as is. */
  modules: string[];
}

/**
 * Runs `node bin/poquan.js …` with plain Node — its only preload is the tracer, which records and changes
 * nothing — from a scratch folder (no `.env`) with only the given settings, and lists the modules it loaded.
 */
function poquanTraced(args: string[], env: Record<string, string> = {}): Promise<TracedRun> {
  const trace = join(scratch, `trace-${++runs}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tracer, bin, ...args], {
      cwd: scratch,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: scratch,
        KNOWLEDGE_DIR: join(root, 'knowledge'),
        STORE_URL: 'memory://',
        TRACE_MODULES: trace,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      readFile(trace, 'utf8').then((text) => {
        const urls = text.split('\n').filter(Boolean);
        const modules = urls.map((url) =>
          url.startsWith('file:') ? fileURLToPath(url).slice(root.length) : url,
        );
        resolve({ code, stdout, modules: [...new Set(modules)] });
      }, reject);
    });
  });
}

/** The npm packages among the loaded modules. */
function packagesIn(modules: string[]): string[] {
  const names = modules.map((file) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1]);
  return [...new Set(names.filter((name) => name !== undefined))].sort();
}

// The tracer's hook thread makes every import a round trip: on a busy 2-core machine a traced `ask` takes 20 s.
describe('the compiled runtime', { timeout: 120_000 }, () => {
  it('runs dist/ with plain node: --version prints the version in package.json', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const run = await poquanTraced(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
    expect(run.modules).toContain('dist/src/main.js');
    expect(run.modules.filter((file) => file.endsWith('.ts'))).toEqual([]);
    expect(packagesIn(run.modules)).not.toContain('tsx');
    expect(packagesIn(run.modules)).not.toContain('typescript');
  });

  it('shows --help having loaded no package but the argument parser', async () => {
    const run = await poquanTraced(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: poquan');
    expect(packagesIn(run.modules)).toEqual(['commander']);
  });

  it('answers offline without the model client, a platform library or the metrics registry', async () => {
    const run = await poquanTraced(['ask', 'Who founded DeepSeek?']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Liang Wenfeng');
    const loaded = packagesIn(run.modules);
    expect(run.modules).toContain('dist/src/search/bm25-index.js');
    for (const heavy of ['openai', 'grammy', 'discord.js', 'prom-client', 'tsx', 'minisearch']) {
      expect(loaded).not.toContain(heavy);
    }
  });

  it('loads the model client, and still no metrics registry, when a model answers', async () => {
    const llm = await startFakeLlm();
    try {
      llm.enqueue({ content: 'DeepSeek was founded by Liang Wenfeng [1].' });
      const run = await poquanTraced(['ask', 'Who founded DeepSeek?'], { LLM_BASE_URL: llm.url });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('DeepSeek was founded by Liang Wenfeng [1].');
      expect(packagesIn(run.modules)).toContain('openai');
      expect(packagesIn(run.modules)).not.toContain('prom-client');
    } finally {
      await llm.close();
    }
  });
});

describe("the Docker image's start command", { timeout: 60_000 }, () => {
  it('serves /healthz on --default-port when an env file leaves PORT empty', async () => {
    const telegram = await startFakeTelegram();
    const port = await freePort();
    const bot = startPoquanProcess(
      {
        PORT: '',
        HTTP_HOST: '127.0.0.1',
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.url,
        STORE_URL: 'memory://',
        KNOWLEDGE_DIR: join(root, 'test/fixtures/knowledge-mini'),
      },
      scratch,
      ['--default-port', String(port)],
    );
    try {
      await bot.waitForLog((entry) => entry.msg === 'telegram adapter started');
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await bot.stop('SIGKILL');
      await telegram.close();
    }
  });
});
