import { describe, expect } from 'vitest';
import { createPoquan, type Poquan } from '../../src/composition-root.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { type ReadinessCheck, startHttpServer } from '../../src/server/http.ts';
import { startFakeLlm } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import { startRedisServer, withoutRedis } from '../servers/redis-server.ts';
import type { Cleanups } from './harness.ts';

async function serve(cleanups: Cleanups, env: Record<string, string> = {}, checks: ReadinessCheck[] = []) {
  const poquan: Poquan = await createPoquan(
    loadConfig({ KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini', STORE_URL: 'memory://', ...env }),
    createLogger('silent'),
  );
  cleanups.push(() => poquan.close());
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    services: poquan,
    checks,
    logger: createLogger('silent'),
  });
  cleanups.push(() => server.close());
  return { poquan, server };
}

describe('operations endpoint', () => {
  it('answers /healthz while the process is up', async ({ cleanups }) => {
    const { server } = await serve(cleanups);
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('reports ready with each check when store and knowledge are fine', async ({ cleanups }) => {
    const { server, poquan } = await serve(cleanups);
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      knowledgeVersion: poquan.knowledge().version,
      checks: [
        { name: 'store', ok: true },
        { name: 'knowledge', ok: true },
      ],
    });
  });

  it('reports not ready, naming the failing platform, when an adapter is disconnected', async ({
    cleanups,
  }) => {
    const { server } = await serve(cleanups, {}, [
      {
        name: 'telegram',
        check: async () => {
          throw new Error('not polling');
        },
      },
    ]);
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { checks: unknown[] };
    expect(body.checks).toContainEqual({ name: 'telegram', ok: false, error: 'not polling' });
  });

  it.skipIf(withoutRedis)(
    'goes not ready while Redis is down and ready again when it returns',
    async ({ cleanups }) => {
      const redis = await startRedisServer();
      cleanups.push(() => redis.stop());
      const { server } = await serve(cleanups, { STORE_URL: redis.url });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      await redis.stop();
      const down = await fetch(`${server.url}/readyz`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { checks: unknown[] }).checks[0]).toMatchObject({
        name: 'store',
        ok: false,
      });
      await redis.start();
      await expect
        .poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 8000 })
        .toBe(200);
    },
  );

  it('serves Prometheus metrics: questions by platform and mode, latency, tokens and cache hits, errors', async ({
    cleanups,
  }) => {
    const llm = await startFakeLlm();
    cleanups.push(() => llm.close());
    const { server, poquan } = await serve(cleanups, { LLM_BASE_URL: llm.url, LLM_MAX_RETRIES: '0' });
    for await (const _ of poquan.answer('Who founded High-Flyer?', 'm1', { platform: 'telegram' })) void _;
    for await (const _ of poquan.answer('And the national fund of 60 billion yuan?', 'm1', {
      platform: 'telegram',
    }))
      void _;
    llm.enqueue({ status: 500 });
    await (async () => {
      for await (const _ of poquan.answer('What about the US$184 billion?', 'm2', { platform: 'discord' }))
        void _;
    })().catch(() => undefined);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/poquan_questions_total\{platform="telegram",mode="llm",outcome="answered"\} 2/);
    expect(text).toMatch(/poquan_questions_total\{platform="discord",mode="llm",outcome="error"\} 1/);
    expect(text).toMatch(/poquan_errors_total\{platform="discord",kind="unavailable"\} 1/);
    expect(text).toMatch(/poquan_answer_first_text_seconds_count\{platform="telegram",mode="llm"\} 2/);
    expect(text).toMatch(/poquan_llm_tokens_total\{kind="prompt",model="deepseek-flash"\} \d+/);
    expect(text).toMatch(
      /poquan_llm_tokens_total\{kind="prompt_cache_hit",model="deepseek-flash"\} [1-9]\d*/,
    );
    expect(text).toMatch(/poquan_retrieval_seconds_count 3/);
    expect(text).toContain('poquan_process_resident_memory_bytes');
  });

  it('answers 404 for unknown paths', async ({ cleanups }) => {
    const { server } = await serve(cleanups);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });
});
