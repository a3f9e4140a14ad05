import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Keyv from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { createAnswerer } from '../../src/core/answer.ts';
import type { AnswerDone, AnswerEvent } from '../../src/core/answer-events.ts';
import { loadConfig } from '../../src/core/config.ts';
import { InputError, LlmError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createConversationMemory } from '../../src/core/memory.ts';
import { createPoquan, type Poquan } from '../../src/poquan.ts';
import { type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';

const knowledgeDir = 'test/fixtures/knowledge-mini';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function fakeModel(options: Parameters<typeof startFakeLlm>[0] = {}): Promise<FakeLlm> {
  const llm = await startFakeLlm(options);
  cleanups.push(() => llm.close());
  return llm;
}

async function poquanWith(env: Record<string, string>): Promise<Poquan> {
  const poquan = await createPoquan(
    loadConfig({ KNOWLEDGE_DIR: knowledgeDir, STORE_URL: 'memory://', LLM_MAX_RETRIES: '0', ...env }),
    createLogger('silent'),
  );
  cleanups.push(() => poquan.close());
  return poquan;
}

async function poquanOn(llm: FakeLlm, env: Record<string, string> = {}): Promise<Poquan> {
  return poquanWith({ LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-test-key-1234', ...env });
}

async function collect(events: AsyncIterable<AnswerEvent>) {
  const all: AnswerEvent[] = [];
  for await (const event of events) all.push(event);
  const done = all.at(-1) as AnswerDone;
  const text = all.flatMap((e) => (e.type === 'text' ? [e.delta] : [])).join('');
  const reasoning = all.flatMap((e) => (e.type === 'reasoning' ? [e.delta] : [])).join('');
  return { all, done, text, reasoning };
}

describe('answer() offline', () => {
  it('quotes the best passages with citations and says how to enable the model', async () => {
    const poquan = await poquanWith({});
    const { done, text } = await collect(poquan.answer('Who is the founder of High-Flyer?', 'c1'));
    expect(done.mode).toBe('offline');
    expect(text).toContain('Liang Wenfeng');
    expect(text).toContain('[1]');
    expect(text).toContain('LLM_API_KEY');
    expect(done.citations[0]).toMatchObject({ n: 1, id: 'mini#deepseek-s-founder-1', source: 'mini.md' });
  });

  it('answers an out-of-scope question with a plain "not covered", in the asker language', async () => {
    const poquan = await poquanWith({});
    const english = await collect(poquan.answer('What is the weather in Paris tomorrow?', 'c1'));
    expect(english.done).toMatchObject({ notCovered: true, citations: [] });
    expect(english.text).toMatch(/doesn't cover/);
    const chinese = await collect(poquan.answer('巴黎明天天气怎么样？', 'c2'));
    expect(chinese.text).toMatch(/知识库没有涉及/);
  });

  it('rejects an empty question before doing anything', async () => {
    const poquan = await poquanWith({});
    await expect(collect(poquan.answer('   ', 'c1'))).rejects.toThrow(InputError);
  });
});

describe('answer() with a model', () => {
  it('streams reasoning and text separately and ends with citations and usage', async () => {
    const llm = await fakeModel();
    llm.enqueue({
      reasoning: 'The passage names the founder.',
      content: 'Liang Wenfeng founded High-Flyer in 2015 [1].',
    });
    const poquan = await poquanOn(llm);
    const { all, done, text, reasoning } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(reasoning).toBe('The passage names the founder.');
    expect(text).toBe('Liang Wenfeng founded High-Flyer in 2015 [1].');
    expect(all.findIndex((e) => e.type === 'text')).toBeGreaterThan(
      all.findIndex((e) => e.type === 'reasoning'),
    );
    expect(all.filter((e) => e.type === 'text').length).toBeGreaterThan(1);
    expect(done).toMatchObject({ mode: 'llm', model: 'deepseek-flash', incomplete: false, answer: text });
    expect(done.citations).toEqual([
      { n: 1, id: 'mini#deepseek-s-founder-1', source: 'mini.md', heading: "DeepSeek's founder" },
    ]);
    expect(done.usage?.promptTokens).toBeGreaterThan(0);
    expect(done.usage?.completionTokens).toBeGreaterThan(0);
  });

  it('sends DeepSeek the rules first, delimited passages, the question last, thinking on and usage requested', async () => {
    const llm = await fakeModel();
    const poquan = await poquanOn(llm);
    await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    const [request] = llm.requests;
    expect(request?.headers.authorization).toBe('Bearer sk-test-key-1234');
    expect(request?.body).toMatchObject({
      model: 'deepseek-flash',
      stream: true,
      stream_options: { include_usage: true },
      thinking: { type: 'enabled' },
    });
    const messages = request?.body.messages as Array<{ role: string; content: string }>;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[0]?.content).toMatch(/^You are Poquan/);
    expect(messages[0]?.content).toContain('<passage n="1" id="mini#deepseek-s-founder-1"');
    expect(messages[1]?.content).toBe('Who founded High-Flyer?');
    expect(JSON.stringify(request?.body)).not.toContain('sk-test-key-1234');
  });

  it('turns thinking off when LLM_THINKING=off and then yields no reasoning', async () => {
    const llm = await fakeModel();
    const poquan = await poquanOn(llm, { LLM_THINKING: 'off' });
    const { reasoning, text } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(llm.requests[0]?.body.thinking).toEqual({ type: 'disabled' });
    expect(reasoning).toBe('');
    expect(text).toContain('[1]');
  });

  it('continues a conversation: the second request carries the first turn, and its prefix hits the cache', async () => {
    const llm = await fakeModel();
    const poquan = await poquanOn(llm);
    await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    const second = await collect(poquan.answer('How much did the national fund hold?', 'c1'));
    const messages = llm.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]?.content).toBe('Who founded High-Flyer?');
    expect(messages[2]?.content).not.toMatch(/\[\d\]/);
    expect(second.done.usage?.promptCacheHitTokens).toBeGreaterThan(0);
  });

  it('serves an identical first question from the answer cache without calling the model again', async () => {
    const llm = await fakeModel();
    const poquan = await poquanOn(llm);
    const first = await collect(poquan.answer('Who founded High-Flyer?', 'a'));
    const second = await collect(poquan.answer('who founded high-flyer', 'b'));
    expect(llm.requests).toHaveLength(1);
    expect(second.done).toMatchObject({
      cached: true,
      answer: first.done.answer,
      citations: first.done.citations,
    });
  });

  it('never serves a cached answer from another model endpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'poquan-cache-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const storeUrl = `sqlite://${join(dir, 'poquan.sqlite')}`;
    const before = await fakeModel();
    const first = await poquanOn(before, { STORE_URL: storeUrl });
    await collect(first.answer('Who founded High-Flyer?', 'a'));
    const after = await fakeModel();
    const second = await poquanOn(after, { STORE_URL: storeUrl });
    const { done } = await collect(second.answer('Who founded High-Flyer?', 'b'));
    expect(done.cached).toBe(false);
    expect(after.requests).toHaveLength(1);
  });

  it('does not call the model for a question the knowledge does not cover', async () => {
    const llm = await fakeModel();
    const poquan = await poquanOn(llm);
    const { done } = await collect(poquan.answer('What is the weather in Paris tomorrow?', 'c1'));
    expect(done.notCovered).toBe(true);
    expect(llm.requests).toHaveLength(0);
  });

  it.each([
    [401, 'auth'],
    [402, 'auth'],
    [429, 'rate_limit'],
    [500, 'unavailable'],
    [503, 'unavailable'],
    [400, 'bad_request'],
  ] as const)('turns an HTTP %i from the provider into LlmError(%s)', async (status, kind) => {
    const llm = await fakeModel();
    llm.enqueue({ status });
    const poquan = await poquanOn(llm);
    const error = await collect(poquan.answer('Who founded High-Flyer?', 'c1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).kind).toBe(kind);
    expect((error as LlmError).options.status).toBe(status);
  });

  it('reports Retry-After on a 429', async () => {
    const llm = await fakeModel();
    llm.enqueue({ status: 429, retryAfter: 7 });
    const poquan = await poquanOn(llm);
    const error = (await collect(poquan.answer('Who founded High-Flyer?', 'c1')).catch(
      (e: unknown) => e,
    )) as LlmError;
    expect(error.options.retryAfterSeconds).toBe(7);
  });

  it('retries a 503 before the stream starts and then answers', async () => {
    const llm = await fakeModel();
    llm.enqueue({ status: 503, retryAfter: 0 });
    const poquan = await poquanOn(llm, { LLM_MAX_RETRIES: '1' });
    const { done } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(llm.requests).toHaveLength(2);
    expect(done.incomplete).toBe(false);
  });

  it('rejects a wrong key with an auth error', async () => {
    const llm = await fakeModel({ apiKey: 'sk-right' });
    const poquan = await poquanOn(llm, { LLM_API_KEY: 'sk-wrong' });
    await expect(collect(poquan.answer('Who founded High-Flyer?', 'c1'))).rejects.toMatchObject({
      kind: 'auth',
    });
  });

  it('keeps the partial answer, marked incomplete, when the stream is cut mid-answer', async () => {
    const llm = await fakeModel();
    llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer in 2015 and financed DeepSeek himself [1].',
      cutAfterChunks: 3,
      chunkChars: 5,
    });
    const poquan = await poquanOn(llm);
    const { done, text } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(text).toBe('Liang Wenfeng f');
    expect(done).toMatchObject({ incomplete: true, answer: 'Liang Wenfeng f' });
    expect(done.incompleteReason).toBeDefined();
    expect((await poquan.memory.load('c1'))[0]?.answer).toBe('Liang Wenfeng f');
  });

  it('ends a stream with a malformed SSE line without crashing', async () => {
    const llm = await fakeModel();
    llm.enqueue({ content: 'Liang Wenfeng founded High-Flyer [1].', malformed: true });
    const poquan = await poquanOn(llm);
    const outcome = await collect(poquan.answer('Who founded High-Flyer?', 'c1')).catch((e: unknown) => e);
    if (outcome instanceof LlmError) expect(outcome.kind).toBeDefined();
    else expect((outcome as { done: AnswerDone }).done.type).toBe('done');
  });

  it('times out a provider that never answers', async () => {
    const llm = await fakeModel();
    llm.enqueue({ hang: true });
    const poquan = await poquanOn(llm, { LLM_TIMEOUT_MS: '300' });
    await expect(collect(poquan.answer('Who founded High-Flyer?', 'c1'))).rejects.toMatchObject({
      kind: 'timeout',
    });
  });

  it('treats an empty answer as an error rather than sending nothing', async () => {
    const llm = await fakeModel();
    llm.enqueue({ content: '' });
    const poquan = await poquanOn(llm);
    await expect(collect(poquan.answer('Who founded High-Flyer?', 'c1'))).rejects.toMatchObject({
      kind: 'empty',
    });
  });

  it('keeps answering without memory when the store fails', async () => {
    const llm = await fakeModel();
    const poquan = await poquanOn(llm);
    const failing = new Keyv({
      throwOnErrors: true,
      store: {
        get: async () => {
          throw new Error('SQLITE_BUSY: database is locked');
        },
        set: async () => {
          throw new Error('SQLITE_BUSY: database is locked');
        },
        delete: async () => false,
        clear: async () => {},
        on() {
          return this;
        },
      } as never,
    });
    const answer = createAnswerer({
      retriever: poquan.retriever,
      llm: poquan.llm,
      memory: createConversationMemory(failing, { turns: 5, ttlMs: 1000 }),
      cache: failing,
      cacheTtlMs: 60_000,
      topK: 4,
      maxQuestionChars: 1000,
      logger: createLogger('silent'),
    });
    const { done } = await collect(answer('Who founded High-Flyer?', 'c1'));
    expect(done.incomplete).toBe(false);
    expect(done.answer).toContain('[1]');
  });
});
