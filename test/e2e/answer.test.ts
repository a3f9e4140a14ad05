import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { aboutCommand } from '../../commands/about.ts';
import { createPoquan, type Poquan } from '../../src/composition-root.ts';
import { createAnswerer } from '../../src/core/answer.ts';
import type { AnswerDone, AnswerEvent } from '../../src/core/answer-events.ts';
import { loadConfig } from '../../src/core/config.ts';
import { InputError, LlmError } from '../../src/core/errors.ts';
import { createConversationMemory } from '../../src/core/memory.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';
import { failingStore } from '../fixtures/failing-store.ts';
import { it } from '../fixtures/it.ts';
import type { Cleanups } from './harness.ts';

const knowledgeDir = 'test/fixtures/knowledge-mini';

async function fakeModel(
  cleanups: Cleanups,
  options: Parameters<typeof startFakeLlm>[0] = {},
): Promise<FakeLlm> {
  const llm = await startFakeLlm(options);
  cleanups.push(() => llm.close());
  return llm;
}

async function poquanWith(cleanups: Cleanups, env: Record<string, string>): Promise<Poquan> {
  const poquan = await createPoquan(
    loadConfig({ KNOWLEDGE_DIR: knowledgeDir, STORE_URL: 'memory://', LLM_MAX_RETRIES: '0', ...env }),
    createLogger('silent'),
  );
  cleanups.push(() => poquan.close());
  return poquan;
}

async function poquanOn(cleanups: Cleanups, llm: FakeLlm, env: Record<string, string> = {}): Promise<Poquan> {
  return poquanWith(cleanups, { LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-test-key-1234', ...env });
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
  it('quotes the best passages with citations and says how to enable the model', async ({ cleanups }) => {
    const poquan = await poquanWith(cleanups, {});
    const { done, text } = await collect(poquan.answer('Who is the founder of High-Flyer?', 'c1'));
    expect(done.mode).toBe('offline');
    expect(text).toContain('Liang Wenfeng');
    expect(text).toContain('[1]');
    expect(text).toContain('LLM_API_KEY');
    expect(done.citations[0]).toMatchObject({ n: 1, id: 'mini#deepseek-s-founder-1', source: 'mini.md' });
  });

  it('answers an out-of-scope question with a plain "not covered", in the asker language', async ({
    cleanups,
  }) => {
    const poquan = await poquanWith(cleanups, {});
    const english = await collect(poquan.answer('What is the weather in Paris tomorrow?', 'c1'));
    expect(english.done).toMatchObject({ notCovered: true, citations: [] });
    expect(english.text).toMatch(/doesn't cover/);
    const chinese = await collect(poquan.answer('巴黎明天天气怎么样？', 'c2'));
    expect(chinese.text).toMatch(/知识库没有涉及/);
  });

  it('rejects an empty question before doing anything', async ({ cleanups }) => {
    const poquan = await poquanWith(cleanups, {});
    await expect(collect(poquan.answer('   ', 'c1'))).rejects.toThrow(InputError);
  });
});

describe('answer() with a model', () => {
  it('streams reasoning and text separately and ends with citations and usage', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueue({
      reasoning: 'The passage names the founder.',
      content: 'Liang Wenfeng founded High-Flyer in 2015 [1].',
    });
    const poquan = await poquanOn(cleanups, llm);
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

  it('sends DeepSeek the rules first, delimited passages, the question last, thinking on and usage requested', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm);
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
    expect(messages[1]?.content).toBe('Who founded High-Flyer?\n\nMost relevant passages: [1]');
    expect(JSON.stringify(request?.body)).not.toContain('sk-test-key-1234');
  });

  it('turns thinking off when LLM_THINKING=off and then yields no reasoning', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, { LLM_THINKING: 'off' });
    const { reasoning, text } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(llm.requests[0]?.body.thinking).toEqual({ type: 'disabled' });
    expect(reasoning).toBe('');
    expect(text).toContain('[1]');
  });

  it('continues a conversation: the second request carries the first turn, and its prefix hits the cache', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm);
    await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    const second = await collect(poquan.answer('How big is the national AI industry investment fund?', 'c1'));
    const messages = llm.requests[1]?.body.messages as Array<{ role: string; content: string }>;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]?.content).toBe('Who founded High-Flyer?');
    expect(messages[2]?.content).not.toMatch(/\[\d\]/);
    expect(second.done.usage?.promptCacheHitTokens).toBeGreaterThan(0);
  });

  it('serves an identical first question from the answer cache without calling the model again', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm);
    const first = await collect(poquan.answer('Who founded High-Flyer?', 'a'));
    const second = await collect(poquan.answer('who founded high-flyer', 'b'));
    expect(llm.requests).toHaveLength(1);
    expect(second.done).toMatchObject({
      cached: true,
      answer: first.done.answer,
      citations: first.done.citations,
    });
  });

  it('never serves a cached answer from another model endpoint', async ({ cleanups }) => {
    const dir = await mkdtemp(join(tmpdir(), 'poquan-cache-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const storeUrl = `sqlite://${join(dir, 'poquan.sqlite')}`;
    const before = await fakeModel(cleanups);
    const first = await poquanOn(cleanups, before, { STORE_URL: storeUrl });
    await collect(first.answer('Who founded High-Flyer?', 'a'));
    const after = await fakeModel(cleanups);
    const second = await poquanOn(cleanups, after, { STORE_URL: storeUrl });
    const { done } = await collect(second.answer('Who founded High-Flyer?', 'b'));
    expect(done.cached).toBe(false);
    expect(after.requests).toHaveLength(1);
  });

  it('does not call the model for a question the knowledge does not cover', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm);
    const { done } = await collect(poquan.answer('What is the weather in Paris tomorrow?', 'c1'));
    expect(done.notCovered).toBe(true);
    expect(llm.requests).toHaveLength(0);
  });

  it.for([
    [401, 'auth'],
    [402, 'auth'],
    [429, 'rate_limit'],
    [500, 'unavailable'],
    [503, 'unavailable'],
    [400, 'bad_request'],
  ] as const)(
    'turns an HTTP %i from the provider into LlmError(%s)',
    async ([status, kind], { cleanups }) => {
      const llm = await fakeModel(cleanups);
      llm.enqueue({ status });
      const poquan = await poquanOn(cleanups, llm);
      const error = await collect(poquan.answer('Who founded High-Flyer?', 'c1')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LlmError);
      expect((error as LlmError).kind).toBe(kind);
      expect((error as LlmError).options.status).toBe(status);
    },
  );

  it('reports Retry-After on a 429', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueue({ status: 429, retryAfter: 7 });
    const poquan = await poquanOn(cleanups, llm);
    const error = (await collect(poquan.answer('Who founded High-Flyer?', 'c1')).catch(
      (e: unknown) => e,
    )) as LlmError;
    expect(error.options.retryAfterSeconds).toBe(7);
  });

  it('retries a 503 before the stream starts and then answers', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueue({ status: 503, retryAfter: 0 });
    const poquan = await poquanOn(cleanups, llm, { LLM_MAX_RETRIES: '1' });
    const { done } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(llm.requests).toHaveLength(2);
    expect(done.incomplete).toBe(false);
  });

  it('rejects a wrong key with an auth error', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups, { apiKey: 'sk-right' });
    const poquan = await poquanOn(cleanups, llm, { LLM_API_KEY: 'sk-wrong' });
    await expect(collect(poquan.answer('Who founded High-Flyer?', 'c1'))).rejects.toMatchObject({
      kind: 'auth',
    });
  });

  it('keeps the partial answer, marked incomplete, when the stream is cut mid-answer', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueue({
      content: 'Liang Wenfeng founded High-Flyer in 2015 and financed DeepSeek himself [1].',
      cutAfterChunks: 3,
      chunkChars: 5,
    });
    const poquan = await poquanOn(cleanups, llm);
    const { done, text } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(text).toBe('Liang Wenfeng f');
    expect(done).toMatchObject({ incomplete: true, answer: 'Liang Wenfeng f' });
    expect(done.incompleteReason).toBe('cut_off');
    expect((await poquan.memory.load('c1'))[0]?.answer).toBe('Liang Wenfeng f');
  });

  it('ends a stream with a malformed SSE line as a cut-off answer, keeping the text before it', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueue({ content: 'Liang Wenfeng founded High-Flyer [1].', malformed: true });
    const poquan = await poquanOn(cleanups, llm);
    const { done, text } = await collect(poquan.answer('Who founded High-Flyer?', 'c1'));
    expect(text).toMatch(/^Liang/);
    expect(done).toMatchObject({ incomplete: true, incompleteReason: 'cut_off', answer: text });
  });

  it('times out a provider that never answers', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueue({ hang: true });
    const poquan = await poquanOn(cleanups, llm, { LLM_TIMEOUT_MS: '300' });
    await expect(collect(poquan.answer('Who founded High-Flyer?', 'c1'))).rejects.toMatchObject({
      kind: 'timeout',
    });
  });

  it('treats an empty answer as an error rather than sending nothing', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueue({ content: '' });
    const poquan = await poquanOn(cleanups, llm);
    await expect(collect(poquan.answer('Who founded High-Flyer?', 'c1'))).rejects.toMatchObject({
      kind: 'empty',
    });
  });

  it('keeps answering without memory when the store fails', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm);
    const failing = failingStore('SQLITE_BUSY: database is locked');
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

type Message = { role: string; content: string };
const shipped = { KNOWLEDGE_DIR: 'knowledge' };
/** The answer requests (streamed) the fake received; follow-up rewrites are non-streamed. */
const answerRequests = (llm: FakeLlm) => llm.requests.filter((request) => request.body.stream === true);
const rewriteRequests = (llm: FakeLlm) => llm.requests.filter((request) => request.body.stream !== true);
const messagesOf = (request: FakeLlm['requests'][number] | undefined) =>
  (request?.body.messages ?? []) as Message[];
/** The passage numbers the last user message names as most relevant. */
function relevantNumbers(request: FakeLlm['requests'][number] | undefined): number[] {
  const line = /Most relevant passages: (.*)$/.exec(messagesOf(request).at(-1)?.content ?? '')?.[1] ?? '';
  return [...line.matchAll(/\d+/g)].map((match) => Number(match[0]));
}

describe('answer() with the whole knowledge in context (CONTEXT_MODE=auto, knowledge under budget)', () => {
  it('sends every question from every chat the same system message, and names the best passages in the question', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, shipped);
    await collect(poquan.answer('Who founded DeepSeek?', 'telegram:1'));
    const second = await collect(poquan.answer('六小虎包括哪些公司？', 'discord:2'));
    const [first, next] = answerRequests(llm).map(messagesOf);
    expect(first?.[0]?.role).toBe('system');
    expect(next?.[0]?.content).toBe(first?.[0]?.content);
    const knowledge = poquan.knowledge();
    for (const [index, passage] of knowledge.passages.entries()) {
      expect(first?.[0]?.content).toContain(`<passage n="${index + 1}" id="${passage.id}"`);
    }
    const tigers = relevantNumbers(answerRequests(llm)[1]);
    expect(tigers.length).toBeGreaterThan(0);
    expect(knowledge.passages[(tigers[0] as number) - 1]?.text).toMatch(/six little tigers/);
    // [n] means the n-th passage of the file, in the answer's citations too.
    expect(second.done.citations).toContainEqual(
      expect.objectContaining({ n: tigers[0], id: knowledge.passages[(tigers[0] as number) - 1]?.id }),
    );
    expect(second.done.usage?.promptCacheHitTokens).toBeGreaterThan(0);
  });

  it('gives each passage its file date and tells the model to answer "as of" that date', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, shipped);
    await collect(poquan.answer("What is DeepSeek's latest model?", 'c1'));
    const system = messagesOf(answerRequests(llm)[0])[0]?.content ?? '';
    expect(system).toMatch(/<passage n="1" [^\n]* date="2025-02">\n/);
    expect(system).toContain('"as of <date>"');
  });

  it('falls back to top-k retrieval when the knowledge exceeds CONTEXT_BUDGET_TOKENS, and /about says so', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, { ...shipped, CONTEXT_BUDGET_TOKENS: '1000' });
    await collect(poquan.answer('Who founded DeepSeek?', 'c1'));
    const messages = messagesOf(answerRequests(llm)[0]);
    expect(messages[0]?.content.match(/<passage n=/g)?.length).toBeLessThanOrEqual(4);
    expect(messages.at(-1)?.content).toBe('Who founded DeepSeek?');
    const reply = await aboutCommand.handler(
      {},
      { services: poquan, platform: 'cli', conversationId: 'c', userKey: 'u', language: 'en' },
    );
    expect(reply).toMatchObject({
      text: expect.stringMatching(
        /Context: retrieval, top 4 passages per question: \d+ passages, ~[\d.]+k tokens > budget 1k/,
      ),
    });
  });

  it('/about names full context with its size, in English and Chinese', async ({ cleanups }) => {
    const poquan = await poquanWith(cleanups, shipped);
    const context = { services: poquan, platform: 'cli' as const, conversationId: 'c', userKey: 'u' };
    const english = await aboutCommand.handler({}, { ...context, language: 'en' });
    const chinese = await aboutCommand.handler({}, { ...context, language: 'zh' });
    const passages = poquan.knowledge().passages.length;
    expect(english).toMatchObject({
      text: expect.stringContaining(`Context: full context: ${passages} passages, ~`),
    });
    expect(english).toMatchObject({ text: expect.stringMatching(/tokens ≤ budget 16k/) });
    expect(chinese).toMatchObject({ text: expect.stringContaining(`上下文：全文上下文：${passages} 段`) });
  });

  it('says how far the knowledge runs when asked about a later year, without calling the model', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, shipped);
    const english = await collect(poquan.answer('What happened in 2027?', 'c1'));
    const chinese = await collect(poquan.answer('DeepSeek在2026年有什么最新进展？', 'c2'));
    expect(english.done.notCovered).toBe(true);
    expect(english.text).toContain('The knowledge file runs to February 2025');
    expect(chinese.text).toContain('知识库的内容截至2025年2月');
    // A later year the knowledge itself talks about is still answered.
    await collect(poquan.answer('What does China want to achieve by 2030?', 'c3'));
    expect(answerRequests(llm)).toHaveLength(1);
  });
});

describe('answer() in a conversation: follow-ups and topic switches', () => {
  it('treats an unrelated question after an on-topic one as a first question: not covered, no model call', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, shipped);
    await collect(poquan.answer('Who founded DeepSeek?', 'chat'));
    const weather = await collect(poquan.answer('What is the weather in Paris tomorrow?', 'chat'));
    expect(weather.done).toMatchObject({ notCovered: true, citations: [] });
    expect(weather.text).toMatch(/doesn't cover/);
    expect(llm.requests).toHaveLength(1);
  });

  it('searches a topic switch for the new topic alone', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, { ...shipped, CONTEXT_MODE: 'retrieve' });
    await collect(poquan.answer('Who founded DeepSeek?', 'chat'));
    await collect(poquan.answer('How big is the national AI industry investment fund?', 'chat'));
    expect(rewriteRequests(llm)).toHaveLength(0);
    const system = messagesOf(answerRequests(llm)[1])[0]?.content ?? '';
    expect(system).toContain('60 billion yuan');
    expect(system).not.toContain('Liang Wenfeng');
  });

  it.for([
    ['rewritten by the model', '3000'],
    ['the lexical rule only', '0'],
  ] as const)(
    'keeps "And who founded it?" on Zhipu AI, not on DeepSeek (%s)',
    async ([, timeout], { cleanups }) => {
      const llm = await fakeModel(cleanups);
      const poquan = await poquanOn(cleanups, llm, { ...shipped, FOLLOW_UP_REWRITE_TIMEOUT_MS: timeout });
      await collect(poquan.answer('What is Zhipu AI?', 'chat'));
      const followUp = await collect(poquan.answer('And who founded it?', 'chat'));
      expect(followUp.done.notCovered).toBe(false);
      expect(rewriteRequests(llm)).toHaveLength(timeout === '0' ? 0 : 1);
      const relevant = relevantNumbers(answerRequests(llm)[1]);
      const passages = poquan.knowledge().passages;
      expect(relevant.length).toBeGreaterThan(0);
      for (const n of relevant) {
        expect(passages[n - 1]?.heading).not.toBe("DeepSeek's founder and independence");
        expect(passages[n - 1]?.text).toContain('Zhipu AI');
      }
    },
  );

  it('asks the model to rewrite a follow-up into a standalone query, briefly and without thinking', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, { ...shipped, FOLLOW_UP_REWRITE_TIMEOUT_MS: '3000' });
    await collect(poquan.answer('梁文锋是谁？', 'chat'));
    await collect(poquan.answer('他创办了哪家对冲基金？', 'chat'));
    const [rewrite] = rewriteRequests(llm);
    expect(rewrite?.body).toMatchObject({ thinking: { type: 'disabled' } });
    expect(rewrite?.body.stream).toBeUndefined();
    expect(rewrite?.body.max_tokens).toBeLessThanOrEqual(100);
    expect(messagesOf(rewrite)[1]?.content).toContain('User: 梁文锋是谁？');
    expect(messagesOf(rewrite)[1]?.content).toContain('Latest message: 他创办了哪家对冲基金？');
    const relevant = relevantNumbers(answerRequests(llm)[1]);
    expect(relevant.some((n) => poquan.knowledge().passages[n - 1]?.text.includes('High-Flyer'))).toBe(true);
  });

  it('falls back to the lexical rule when the rewrite times out, and still answers', async ({ cleanups }) => {
    const llm = await fakeModel(cleanups);
    llm.enqueueRewrite({ hang: true });
    const poquan = await poquanOn(cleanups, llm, { ...shipped, FOLLOW_UP_REWRITE_TIMEOUT_MS: '200' });
    await collect(poquan.answer('Who founded DeepSeek?', 'chat'));
    const followUp = await collect(poquan.answer('And how did he pay for it?', 'chat'));
    expect(followUp.done).toMatchObject({ notCovered: false, incomplete: false });
    const relevant = relevantNumbers(answerRequests(llm)[1]);
    expect(relevant.some((n) => poquan.knowledge().passages[n - 1]?.text.includes('self-funded'))).toBe(true);
  });

  it('refuses a continuation in words the knowledge never uses, without a model call', async ({
    cleanups,
  }) => {
    const llm = await fakeModel(cleanups);
    const poquan = await poquanOn(cleanups, llm, { ...shipped, FOLLOW_UP_REWRITE_TIMEOUT_MS: '0' });
    await collect(poquan.answer('How big is the national AI fund?', 'chat'));
    const weather = await collect(poquan.answer('And what about the weather there?', 'chat'));
    expect(weather.done.notCovered).toBe(true);
    expect(answerRequests(llm)).toHaveLength(1);
  });
});
