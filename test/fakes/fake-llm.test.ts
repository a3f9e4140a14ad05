import OpenAI, {
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRewritePrompt } from '../../src/core/follow-up.ts';
import { buildGlossarySuggestionPrompt } from '../../src/core/glossary-suggestion.ts';
import { type FakeLlm, type FakeReply, startFakeLlm } from './fake-llm.ts';

/** DeepSeek's extra request field; the SDK forwards unknown body fields untouched. */
type DeepSeekStreaming = ChatCompletionCreateParamsStreaming & {
  thinking?: { type: 'enabled' | 'disabled' };
};

/** DeepSeek's usage object: OpenAI's plus the context-cache counters. */
type DeepSeekUsage = CompletionUsage & { prompt_cache_hit_tokens: number; prompt_cache_miss_tokens: number };

let fake: FakeLlm;
let client: OpenAI;

async function restart(options: Parameters<typeof startFakeLlm>[0] = {}): Promise<void> {
  await fake.close();
  fake = await startFakeLlm(options);
  client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 0, timeout: 5000 });
}

beforeEach(async () => {
  fake = await startFakeLlm();
  client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 0, timeout: 5000 });
});
afterEach(async () => {
  await fake.close();
});

const question: ChatCompletionMessageParam = { role: 'user', content: 'Who founded DeepSeek?' };

function streamParams(messages: ChatCompletionMessageParam[] = [question]): DeepSeekStreaming {
  return { model: 'deepseek-chat', messages, stream: true, stream_options: { include_usage: true } };
}

/** Drains a stream, keeping every chunk, or the error that ended it. */
async function drain(
  params: DeepSeekStreaming,
  sdk = client,
): Promise<{ chunks: ChatCompletionChunk[]; error?: unknown }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const chunk of await sdk.chat.completions.create(params)) chunks.push(chunk);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

type DeltaWithReasoning = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null };

function deltas(chunks: ChatCompletionChunk[]): DeltaWithReasoning[] {
  return chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta as DeltaWithReasoning));
}

function joined(chunks: ChatCompletionChunk[], field: 'content' | 'reasoning_content'): string {
  return deltas(chunks)
    .map((delta) => delta[field] ?? '')
    .join('');
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

function passageBlock(n: number, id: string, section: string, text: string): string {
  return `<passage n="${n}" id="${id}" source="china-ai-race.md" section="${section}">\n${text}\n</passage>`;
}

describe('fake LLM', () => {
  it('streams reasoning first, then content, each concatenating to the configured text', async () => {
    const reply: FakeReply = {
      content: 'DeepSeek was founded by Liang Wenfeng [1].',
      reasoning: 'Passage 1 names him.',
    };
    fake.enqueue({ ...reply, chunkChars: 5 });
    const { chunks, error } = await drain(streamParams());
    expect(error).toBeUndefined();
    expect(joined(chunks, 'reasoning_content')).toBe(reply.reasoning);
    expect(joined(chunks, 'content')).toBe(reply.content);
    const kinds = deltas(chunks)
      .map((delta) => (delta.reasoning_content ? 'r' : delta.content ? 'c' : ''))
      .join('');
    expect(kinds).toMatch(/^r+c+$/);
    expect(deltas(chunks)[0]).toMatchObject({ role: 'assistant', content: null, reasoning_content: '' });
    const finishes = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason));
    expect(finishes.filter((reason) => reason !== null)).toEqual(['stop']);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'deepseek-chat' });
  });

  it('sends usage on a final chunk with empty choices only when include_usage is set', async () => {
    fake.enqueue({ content: 'Twelve chars', reasoning: 'four' });
    const { chunks } = await drain(streamParams());
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({
      prompt_tokens: Math.ceil((question.content as string).length / 4),
      completion_tokens: 3 + 1,
      completion_tokens_details: { reasoning_tokens: 1 },
    });
    expect(chunks.slice(0, -1).every((chunk) => !chunk.usage)).toBe(true);

    const { chunks: withoutUsage } = await drain({
      ...streamParams(),
      stream_options: { include_usage: false },
    });
    expect(withoutUsage.every((chunk) => !chunk.usage && chunk.choices.length === 1)).toBe(true);
  });

  it('reports context-cache hits for a prompt sharing a long prefix with an earlier one', async () => {
    const system: ChatCompletionMessageParam = { role: 'system', content: 'Rules. '.repeat(200) };
    const usages: DeepSeekUsage[] = [];
    for (const content of ['First question?', 'Second question?']) {
      const { chunks } = await drain(streamParams([system, { role: 'user', content }]));
      usages.push(chunks.at(-1)?.usage as DeepSeekUsage);
    }
    const [first, second] = usages as [DeepSeekUsage, DeepSeekUsage];
    expect(first.prompt_cache_hit_tokens).toBe(0);
    expect(first.prompt_cache_miss_tokens).toBe(first.prompt_tokens);
    expect(second.prompt_cache_hit_tokens).toBeGreaterThan(0);
    expect(second.prompt_cache_hit_tokens % 64).toBe(0);
    expect(second.prompt_cache_miss_tokens).toBe(second.prompt_tokens - second.prompt_cache_hit_tokens);
    expect(second).toMatchObject({
      prompt_tokens_details: { cached_tokens: second.prompt_cache_hit_tokens },
    });
  });

  it('counts the hit in whole 64-token units of the longest prefix shared with any earlier prompt', async () => {
    const rules = 'Answer only from the passages. '.repeat(60);
    const conversations: ChatCompletionMessageParam[][] = [
      [
        { role: 'system', content: rules },
        { role: 'user', content: 'First?' },
      ],
      // Shares 1,000 characters of the rules with the first, then diverges.
      [{ role: 'system', content: `${rules.slice(0, 1000)}Different rules. ${'x'.repeat(900)}` }],
      // Shares all of the first's system prompt.
      [
        { role: 'system', content: rules },
        { role: 'user', content: 'Second?' },
      ],
    ];
    const hits: number[] = [];
    for (const messages of conversations) {
      const { chunks } = await drain(streamParams(messages));
      const usage = chunks.at(-1)?.usage as DeepSeekUsage | undefined;
      hits.push(usage?.prompt_cache_hit_tokens ?? Number.NaN);
    }
    const serialized = conversations.map((messages) => JSON.stringify(messages));
    const shared = (a: string, b: string) => {
      let i = 0;
      while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
      return i;
    };
    const units = (chars: number) => Math.floor(chars / 256) * 64;
    const [first, second, third] = serialized as [string, string, string];
    expect(hits).toEqual([
      0,
      units(shared(second, first)),
      units(Math.max(shared(third, first), shared(third, second))),
    ]);
    expect(hits[1]).toBeGreaterThan(0);
    expect(hits[2]).toBeGreaterThan(hits[1] as number);
  });

  it('sends no reasoning_content when thinking is disabled', async () => {
    fake.enqueue({ content: 'Plain answer.', reasoning: 'Should never be sent.' });
    const { chunks } = await drain({ ...streamParams(), thinking: { type: 'disabled' } });
    expect(joined(chunks, 'content')).toBe('Plain answer.');
    expect(deltas(chunks).every((delta) => !delta.reasoning_content)).toBe(true);
    expect(chunks.at(-1)?.usage?.completion_tokens_details?.reasoning_tokens).toBe(0);
  });

  it('answers by default from the passages, quoting passage 1 and citing [1] and [2]', async () => {
    const system = [
      'You are Poquan.',
      '<passages>',
      passageBlock(
        1,
        'china-ai-race#founders-1',
        'Founders',
        'DeepSeek was founded by Liang Wenfeng in 2023. He ran High-Flyer.',
      ),
      passageBlock(
        2,
        'china-ai-race#models-2',
        'Models',
        'DeepSeek-R1 was released in Jan. 2025. It reasons.',
      ),
      '</passages>',
    ].join('\n');
    const { chunks } = await drain(streamParams([{ role: 'system', content: system }, question]));
    expect(joined(chunks, 'content')).toBe(
      'According to the knowledge file, DeepSeek was founded by Liang Wenfeng in 2023. [1] ' +
        'DeepSeek-R1 was released in Jan. 2025. [2]',
    );
    expect(joined(chunks, 'reasoning_content')).toBe(
      'The user asks: Who founded DeepSeek?. Passage [1] is relevant.',
    );

    const { chunks: uncovered } = await drain(
      streamParams([{ role: 'system', content: '<passages>\n</passages>' }, question]),
    );
    expect(joined(uncovered, 'content')).toBe('The knowledge file does not cover this question.');
  });

  it('adds a claim of its own after the grounded answer when told to, as a model inventing a figure does', async () => {
    const system = [
      '<passages>',
      passageBlock(1, 'china-ai-race#founders-1', 'Founders', 'DeepSeek was founded in 2023.'),
      '</passages>',
    ].join('\n');
    fake.enqueue({ addedClaim: 'It raised US$8.2bn in 2031 [1].' });
    const { chunks } = await drain(streamParams([{ role: 'system', content: system }, question]));
    expect(joined(chunks, 'content')).toBe(
      'According to the knowledge file, DeepSeek was founded in 2023. [1] It raised US$8.2bn in 2031 [1].',
    );
  });

  it('answers from the passages the question names as most relevant, with their numbers, dates or not', async () => {
    const system = [
      '<passages>',
      passageBlock(1, 'k#a-1', 'A', 'The craze began in 2025.'),
      passageBlock(2, 'k#b-1', 'B', 'Liang Wenfeng founded High-Flyer.').replace('">', '" date="2025-02">'),
      passageBlock(3, 'k#c-1', 'C', 'The fund holds 60 billion yuan.'),
      '</passages>',
    ].join('\n');
    const hinted = { role: 'user', content: 'Who founded it?\n\nMost relevant passages: [3], [2]' } as const;
    const { chunks } = await drain(streamParams([{ role: 'system', content: system }, hinted]));
    expect(joined(chunks, 'content')).toBe(
      'According to the knowledge file, The fund holds 60 billion yuan. [3] Liang Wenfeng founded High-Flyer. [2]',
    );
  });

  it('rewrites a follow-up literally, from its own queue, leaving the answer queue alone', async () => {
    fake.enqueue({ content: 'queued answer' });
    const rewrite = (await client.chat.completions.create({
      model: 'deepseek-chat',
      messages: buildRewritePrompt(
        [{ question: 'What is Zhipu AI?', answer: 'A tiger.', citations: [], knowledgeVersion: 'v', at: 0 }],
        'And who founded it?',
      ),
    })) as ChatCompletion;
    expect(rewrite.choices[0]?.message.content).toBe('And who founded it? What is Zhipu AI?');
    fake.enqueueRewrite({ content: 'Who founded Zhipu AI?' });
    const queued = (await client.chat.completions.create({
      model: 'deepseek-chat',
      messages: buildRewritePrompt([], 'And who founded it?'),
    })) as ChatCompletion;
    expect(queued.choices[0]?.message.content).toBe('Who founded Zhipu AI?');
    const { chunks } = await drain(streamParams());
    expect(joined(chunks, 'content')).toBe('queued answer');
  });

  it('answers a glossary suggestion request with a line for each term whose rendering it knows', async () => {
    fake.setRenderings({ 'Yang Zhilin': '杨植麟', '32 billion': '320亿' });
    const reply = (await client.chat.completions.create({
      model: 'deepseek-chat',
      messages: buildGlossarySuggestionPrompt([
        { term: 'Yang Zhilin', kind: 'name', context: 'Moonshot AI was founded by Yang Zhilin.' },
        { term: 'Harbourline', kind: 'name', context: 'Analysts at Harbourline Research said so.' },
        { term: '32 billion', kind: 'figure', context: '32 billion are active for each token.' },
      ]),
    })) as ChatCompletion;
    expect(reply.choices[0]?.message.content).toBe(
      '1 | 杨植麟 | rendering known to the fake model\n3 | 320亿 | rendering known to the fake model',
    );
  });

  it('rejects a wrong key with DeepSeek 401, masked to the last four characters, as AuthenticationError', async () => {
    await restart({ apiKey: 'sk-right-key' });
    const error = await failure(client.chat.completions.create(streamParams()));
    expect(error).toBeInstanceOf(AuthenticationError);
    const auth = error as AuthenticationError;
    expect(auth.status).toBe(401);
    expect(auth.message).toBe('401 Authentication Fails, Your api key: ****test is invalid');
    expect(auth.error).toEqual({
      message: 'Authentication Fails, Your api key: ****test is invalid',
      type: 'authentication_error',
      param: null,
      code: 'invalid_request_error',
    });
    const right = new OpenAI({ baseURL: fake.url, apiKey: 'sk-right-key', maxRetries: 0, timeout: 5000 });
    expect((await drain(streamParams(), right)).error).toBeUndefined();
  });

  it('answers 429 with DeepSeek rate-limit body and a Retry-After header', async () => {
    fake.enqueue({ status: 429, retryAfter: 7 });
    const error = await failure(client.chat.completions.create(streamParams()));
    expect(error).toBeInstanceOf(RateLimitError);
    const limited = error as RateLimitError;
    expect(limited.status).toBe(429);
    expect(limited.headers?.get('retry-after')).toBe('7');
    expect(limited.error).toEqual({
      message: 'Rate Limit Reached',
      type: 'rate_limit_error',
      param: null,
      code: 'rate_limit_reached',
    });
  });

  it('raises APIError with the status for 500 and 503, then serves the default reply again', async () => {
    fake.enqueue({ status: 500 }, { status: 503 });
    for (const [status, message] of [
      [500, 'Server Error'],
      [503, 'Server Overloaded, please try again later'],
    ] as const) {
      const error = await failure(client.chat.completions.create(streamParams()));
      expect(error).toBeInstanceOf(InternalServerError);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(status);
      expect((error as APIError).message).toBe(`${status} ${message}`);
    }
    expect((await drain(streamParams())).error).toBeUndefined();
  });

  it('cut stream: the SDK iteration throws TypeError "terminated" (undici), never a finish_reason', async () => {
    fake.enqueue({ content: 'abcdefghijklmnopqrstuvwxyz', chunkChars: 4, cutAfterChunks: 2 });
    const { chunks, error } = await drain({ ...streamParams(), thinking: { type: 'disabled' } });
    // openai@6 does not wrap this: it is fetch's own TypeError, caused by undici's SocketError.
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(APIError);
    expect((error as Error).message).toBe('terminated');
    expect(((error as Error).cause as { code?: string }).code).toBe('UND_ERR_SOCKET');
    expect(joined(chunks, 'content')).toBe('abcdefgh');
    expect(chunks.every((chunk) => chunk.choices.every((choice) => choice.finish_reason === null))).toBe(
      true,
    );
  });

  it('malformed line: the SDK iteration throws a SyntaxError from JSON.parse', async () => {
    fake.enqueue({ content: 'abcdefghijklmnop', malformed: true });
    const quiet = new OpenAI({
      baseURL: fake.url,
      apiKey: 'sk-test',
      maxRetries: 0,
      timeout: 5000,
      logLevel: 'off',
    });
    const { chunks, error } = await drain({ ...streamParams(), thinking: { type: 'disabled' } }, quiet);
    expect(error).toBeInstanceOf(SyntaxError);
    expect(error).not.toBeInstanceOf(APIError);
    expect(joined(chunks, 'content')).toBe('abcdefgh');
  });

  it('records each request with its path, headers and body', async () => {
    await drain({ ...streamParams(), thinking: { type: 'disabled' } });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.path).toBe('/chat/completions');
    expect(request?.headers.authorization).toBe('Bearer sk-test');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toMatchObject({
      model: 'deepseek-chat',
      messages: [question],
      stream: true,
      stream_options: { include_usage: true },
      thinking: { type: 'disabled' },
    });
  });

  it('streams one word per chunk with chunkWords', async () => {
    fake.enqueue({ content: 'Liang Wenfeng  founded it.', reasoning: 'Two words', chunkWords: true });
    await drain(streamParams());
    expect(fake.requests[0]?.contentChunks.map((chunk) => chunk.text)).toEqual([
      'Liang ',
      'Wenfeng  ',
      'founded ',
      'it.',
    ]);
  });

  it('records when each answer-text chunk of a stream was written, in order, without the reasoning', async () => {
    fake.enqueue({ reasoning: 'Thinking it over.', content: 'Liang Wenfeng founded it.', chunkChars: 10 });
    const { chunks } = await drain(streamParams());
    const written = fake.requests[0]?.contentChunks ?? [];
    expect(written.map((chunk) => chunk.text)).toEqual(['Liang Wenf', 'eng founde', 'd it.']);
    const received = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    expect(received).toBe('Liang Wenfeng founded it.');
    for (let i = 1; i < written.length; i++) {
      expect(written[i]?.at).toBeGreaterThanOrEqual(written[i - 1]?.at ?? 0);
    }
  });

  it('answers non-streaming requests with a chat.completion object, also under /v1', async () => {
    const v1 = new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: 'sk-test', maxRetries: 0, timeout: 5000 });
    fake.enqueue({ content: 'Whole answer.', reasoning: 'Thought.', finishReason: 'length' });
    const params: ChatCompletionCreateParamsNonStreaming = {
      model: 'deepseek-reasoner',
      messages: [question],
    };
    const completion = await v1.chat.completions.create(params);
    expect(fake.requests[0]?.path).toBe('/v1/chat/completions');
    expect(completion).toMatchObject({ object: 'chat.completion', model: 'deepseek-reasoner' });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.choices[0]?.message).toMatchObject({
      content: 'Whole answer.',
      reasoning_content: 'Thought.',
    });
    expect(completion.usage?.completion_tokens).toBe(4 + 2);
  });

  it('keeps a delayed stream alive with SSE comments before the first chunk', async () => {
    fake.enqueue({ content: 'Late.', firstTokenDelayMs: 450 });
    const started = performance.now();
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(streamParams()),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    expect(text.startsWith(': keep-alive\n\n: keep-alive\n\ndata: {')).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('writes nothing of a held reply until it is let go, keeping the stream alive meanwhile', async () => {
    let letGo = () => {};
    const holdUntil = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    fake.enqueue({ content: 'Held.', holdUntil });
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(streamParams()),
    });
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(fake.requests[0]?.contentChunks).toEqual([]);
    letGo();
    const text = await response.text();
    expect(text).toMatch(/^(: keep-alive\n\n)+data: \{/);
    expect(fake.requests[0]?.contentChunks.map((chunk) => chunk.text)).toEqual(['Held.']);
  });

  it('answers unknown paths with 404 and unreadable bodies with 400, as JSON errors', async () => {
    const missing = await fetch(`${fake.url}/models/nothing`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { message: 'Not Found' } });
    const broken = await fetch(`${fake.url}/chat/completions`, { method: 'POST', body: '{"model": ' });
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toBe('application/json');
    expect(await broken.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('lists its models as DeepSeek does and refuses any other model with 400 "Model Not Exist"', async () => {
    await restart({ apiKey: 'sk-test', models: ['deepseek-flash'] });
    const listed = await client.models.list();
    expect(listed.data).toEqual([{ id: 'deepseek-flash', object: 'model', owned_by: 'deepseek' }]);
    const error = await failure(client.chat.completions.create(streamParams()));
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 400, error: { message: 'Model Not Exist' } });
    expect((await drain({ ...streamParams(), model: 'deepseek-flash' })).error).toBeUndefined();
    const stranger = new OpenAI({ baseURL: fake.url, apiKey: 'sk-wrong', maxRetries: 0 });
    expect(await failure(stranger.models.list())).toBeInstanceOf(AuthenticationError);
  });

  it('hangs until the client times out, and survives clients that leave mid-stream', async () => {
    fake.enqueue({ hang: true });
    const error = await failure(client.chat.completions.create(streamParams(), { timeout: 300 }));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);

    fake.enqueue({ content: 'x'.repeat(400), chunkChars: 1, chunkDelayMs: 5 });
    const stream = await client.chat.completions.create(streamParams());
    for await (const _chunk of stream) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await drain(streamParams())).error).toBeUndefined();
  });
});
