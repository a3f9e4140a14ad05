import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { rewriteInstructionsFor } from '../../src/core/follow-up.ts';
import { glossarySuggestionInstructions } from '../../src/core/glossary-suggestion.ts';
import { splitSentences } from '../../src/core/sentences.ts';

/**
 * A loopback stand-in for DeepSeek's OpenAI-compatible chat completions API, served over real HTTP so the
 * real `openai` SDK talks to it exactly as it talks to DeepSeek's own endpoint: the same SSE framing and
 * keep-alive comments, the same chunk shapes (`reasoning_content` in thinking mode), the same usage fields
 * (context-cache hits and misses) and the same JSON error bodies.
 * See DeepSeek's API documentation: "Create Chat Completion" and "Error Codes".
 */

/** How the fake answers one request; every field is optional and the defaults give a grounded answer. */
export interface FakeReply {
  /** Answer text; default: a grounded answer quoting the passages in the system prompt. */
  content?: string;
  /**
   * A sentence of the model's own added to the default grounded answer, as a model that strays from its
   * passages does: "It raised US$8.2bn in 2031 [1]." makes an answer with an invented figure.
   */
  addedClaim?: string;
  /** Thinking text, streamed before the answer as `delta.reasoning_content` unless thinking is disabled. */
  reasoning?: string;
  /** Characters (code points) per SSE chunk; default 8. */
  chunkChars?: number;
  /** One word (with the spaces after it) per SSE chunk instead of `chunkChars`, as a model streams tokens. */
  chunkWords?: boolean;
  /** Delay between consecutive reasoning/content chunks; default 0. */
  chunkDelayMs?: number;
  /** Delay before the first chunk, filled with `: keep-alive` comments every 200ms as DeepSeek does. */
  firstTokenDelayMs?: number;
  /**
   * Write nothing of the reply (keep-alive comments aside) until this settles, after `firstTokenDelayMs`: a model
   * that thinks exactly as long as the test needs, e.g. until it has seen what the bot did meanwhile.
   */
  holdUntil?: Promise<unknown>;
  /** Non-200: answer with DeepSeek's JSON error body for that status instead of a completion. */
  status?: number;
  /** Seconds, sent as the `Retry-After` header (meant for 429/503). */
  retryAfter?: number;
  /** Destroy the socket after this many content chunks, never sending the finish chunk, usage or [DONE]. */
  cutAfterChunks?: number;
  /**
   * Go silent after this many content chunks, keeping the connection open and sending nothing more (not even
   * keep-alive comments): a stalled stream, which only the client's own timeout can end.
   */
  stallAfterChunks?: number;
  /** Send one `data:` line that is not JSON after the first content chunk. */
  malformed?: boolean;
  /** Accept the request and never answer (for timeout tests); the socket stays open until the client goes. */
  hang?: boolean;
  /** The last chunk's `finish_reason`; default 'stop'. */
  finishReason?: 'stop' | 'length' | 'content_filter';
}

/** One HTTP request as the fake received it; `body` is the parsed JSON, or the raw text when it isn't JSON. */
export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are arbitrary JSON, read field by field in tests.
  body: any;
  /** Each answer-text chunk of a streamed reply with `performance.now()` once it was written to the socket. */
  contentChunks: Array<{ at: number; text: string }>;
}

/** A running fake; `url` is the SDK's `baseURL`. */
export interface FakeLlm {
  /**
   * `http://127.0.0.1:PORT`; serves POST `/chat/completions` and GET `/models` (each also under `/v1`);
   * any other path gets DeepSeek's 404.
   */
  url: string;
  /** Every request received, in arrival order, including rejected ones. */
  requests: RecordedRequest[];
  /**
   * Queue replies consumed one per request, in order; when the queue is empty the default reply is used.
   * Requests rejected before reaching the model (wrong key, unreadable body, unknown path) consume nothing,
   * and neither do follow-up rewrite requests, which have a queue of their own.
   */
  enqueue(...replies: FakeReply[]): void;
  /**
   * Queue replies for follow-up rewrite requests (system message = Poquan's `rewriteInstructionsFor` a topic); when
   * empty, the fake rewrites by appending the conversation's last user question to the latest message.
   */
  enqueueRewrite(...replies: FakeReply[]): void;
  /** Set the reply used when the queue is empty. */
  setDefault(reply: FakeReply): void;
  /**
   * The Chinese renderings the fake knows, by English term, for glossary suggestion requests (system message =
   * Poquan's `glossarySuggestionInstructions`): it answers `n | rendering | note` for each numbered term it knows
   * and nothing for the others, as a model that follows the instructions does. Such requests use the answer queue.
   */
  setRenderings(renderings: Record<string, string>): void;
  /** Stops listening and destroys every open connection, including hanging and keep-alive ones. */
  close(): Promise<void>;
}

interface ErrorShape {
  message: string;
  type: string;
  code: string | null;
}

const completionPaths = new Set(['/chat/completions', '/v1/chat/completions']);
const modelListPaths = new Set(['/models', '/v1/models']);
/** What DeepSeek's `GET /models` lists when a test names no models. */
const deepseekModels = ['deepseek-flash', 'deepseek-v4-pro'];
const keepAliveMs = 200;
/** DeepSeek's context cache stores prefixes in 64-token units. */
const cacheUnitTokens = 64;

/** DeepSeek's error bodies, worded as its API words them (402's type is DeepSeek's own `unknown_error`). */
const errorShapes: Record<number, ErrorShape> = {
  400: { message: 'Invalid Format', type: 'invalid_request_error', code: 'invalid_request_error' },
  402: { message: 'Insufficient Balance', type: 'unknown_error', code: 'invalid_request_error' },
  404: { message: 'Not Found', type: 'invalid_request_error', code: 'not_found' },
  405: { message: 'Method Not Allowed', type: 'invalid_request_error', code: 'invalid_request_error' },
  422: { message: 'Invalid Parameters', type: 'invalid_request_error', code: 'invalid_request_error' },
  429: { message: 'Rate Limit Reached', type: 'rate_limit_error', code: 'rate_limit_reached' },
  500: { message: 'Server Error', type: 'api_error', code: 'server_error' },
  503: {
    message: 'Server Overloaded, please try again later',
    type: 'service_unavailable_error',
    code: 'server_overloaded',
  },
};

/** DeepSeek's 401: it echoes the key it was sent, masked to the last four characters. */
function authenticationError(sentKey: string): ErrorShape {
  return {
    message: `Authentication Fails, Your api key: ****${sentKey.slice(-4)} is invalid`,
    type: 'authentication_error',
    code: 'invalid_request_error',
  };
}

function bearerKey(req: IncomingMessage): string {
  return /^Bearer\s+(.*)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
}

function errorShape(status: number, req: IncomingMessage, message?: string): ErrorShape {
  if (status === 401) return authenticationError(bearerKey(req));
  const known = errorShapes[status] ?? {
    message: STATUS_CODES[status] ?? 'Unknown Error',
    type: 'api_error',
    code: null,
  };
  return message ? { ...known, message } : known;
}

function sendError(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  options: ErrorOptions = {},
): void {
  if (isGone(res)) return;
  const { message, type, code } = errorShape(status, req, options.message);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.retryAfter !== undefined) headers['retry-after'] = String(options.retryAfter);
  res.writeHead(status, headers);
  res.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

interface ErrorOptions {
  message?: string;
  retryAfter?: number;
}

function isGone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded;
}

/** Writes and waits until the bytes reach the socket; false once the client has gone. */
function send(res: ServerResponse, text: string): Promise<boolean> {
  if (isGone(res)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    res.once('close', onClose);
    res.write(text, (error) => {
      res.off('close', onClose);
      resolve(!error && !res.destroyed);
    });
  });
}

/** Waits `ms`, or less if the client goes; the timer never outlives the connection. */
function pause(res: ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0 || isGone(res)) return Promise.resolve(!isGone(res));
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve(!isGone(res));
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}

/** Waits `ms`, sending `ping` after every full 200ms so proxies and clients see the connection alive. */
async function waitWithKeepAlive(res: ServerResponse, ms: number, ping: string): Promise<boolean> {
  for (let remaining = ms; remaining > 0; remaining -= keepAliveMs) {
    const step = Math.min(keepAliveMs, remaining);
    if (!(await pause(res, step))) return false;
    if (step === keepAliveMs && !(await send(res, ping))) return false;
  }
  return !isGone(res);
}

/**
 * Waits `firstTokenDelayMs`, then until `holdUntil` settles, sending `ping` every 200ms; false once the client
 * has gone.
 */
async function waitForFirstToken(res: ServerResponse, reply: FakeReply, ping: string): Promise<boolean> {
  if (!(await waitWithKeepAlive(res, reply.firstTokenDelayMs ?? 0, ping))) return false;
  if (!reply.holdUntil) return true;
  const released = reply.holdUntil.then(
    () => 'released' as const,
    () => 'released' as const,
  );
  for (;;) {
    const next = await Promise.race([released, pause(res, keepAliveMs)]);
    if (next === 'released') return !isGone(res);
    if (!next || !(await send(res, ping))) return false;
  }
}

/**
 * The token estimate the fake reports: ceil(characters / 4). Real tokenizers differ, but this is
 * deterministic, monotonic in length and close enough for English text to size budgets in tests.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

interface WireMessage {
  role?: unknown;
  content?: unknown;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  }
  return content == null ? '' : JSON.stringify(content);
}

function messagesOf(body: Record<string, unknown>): WireMessage[] {
  return Array.isArray(body.messages) ? (body.messages as WireMessage[]) : [];
}

/** Characters per cache unit: 64 tokens at the fake's 4 characters per token. */
const cacheUnitChars = cacheUnitTokens * 4;

/** One digest per whole cache unit of `prompt`, each covering the whole prefix up to the end of its unit. */
function unitDigests(prompt: string): string[] {
  const digests: string[] = [];
  let previous = '';
  for (let end = cacheUnitChars; end <= prompt.length; end += cacheUnitChars) {
    previous = createHash('sha1')
      .update(previous)
      .update(prompt.slice(end - cacheUnitChars, end))
      .digest('base64');
    digests.push(previous);
  }
  return digests;
}

/**
 * DeepSeek's context cache, simulated: a new prompt (the serialized messages array) hits on its longest
 * prefix shared with any earlier one, in whole 64-token cache units. Each served prompt leaves one digest per
 * unit of prefix, so a lookup costs the prompt's length, not the number of prompts served before it.
 */
class PromptCache {
  private readonly prefixes = new Set<string>();

  hitTokens(prompt: string, promptTokens: number): number {
    let units = 0;
    for (const digest of unitDigests(prompt)) {
      if (!this.prefixes.has(digest)) break;
      units++;
    }
    return Math.min(units * cacheUnitTokens, promptTokens);
  }

  remember(prompt: string): void {
    for (const digest of unitDigests(prompt)) this.prefixes.add(digest);
  }
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
}

function usageFor(promptTokens: number, hit: number, content: string, reasoning: string): Usage {
  const reasoningTokens = estimateTokens(reasoning);
  const completionTokens = estimateTokens(content) + reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: hit },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
    prompt_cache_hit_tokens: hit,
    prompt_cache_miss_tokens: promptTokens - hit,
  };
}

/** A passage as the lead's prompt builder renders it into the system message. */
export interface RenderedPassage {
  n: number;
  id: string;
  source: string;
  section: string;
  text: string;
}

function unescapeAttribute(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&');
}

/** Reads the `<passage n=… id=… source=… section=… [date=…]>` blocks out of a system prompt, in order. */
export function parsePassages(system: string): RenderedPassage[] {
  const pattern =
    /<passage n="(\d+)" id="([^"]*)" source="([^"]*)" section="([^"]*)"[^>]*>\n([\s\S]*?)\n<\/passage>/g;
  return [...system.matchAll(pattern)].map((match) => ({
    n: Number(match[1]),
    id: unescapeAttribute(match[2] ?? ''),
    source: unescapeAttribute(match[3] ?? ''),
    section: unescapeAttribute(match[4] ?? ''),
    text: match[5] ?? '',
  }));
}

function firstSentence(text: string): string {
  const sentence = splitSentences(text.trim()).find((part) => part.trim() !== '') ?? '';
  return sentence.replace(/\s+/g, ' ').trim();
}

function passagesOf(messages: WireMessage[]): RenderedPassage[] {
  const system = messages.filter((message) => message.role === 'system').map((m) => contentText(m.content));
  return parsePassages(system.join('\n'));
}

function lastUserMessage(messages: WireMessage[]): string {
  const last = messages.findLast((message) => message.role === 'user');
  return last ? contentText(last.content) : '';
}

/**
 * The question in a user message: the text before the "Most relevant passages: …" line Poquan appends in
 * full-context mode, or all of it.
 */
export function askedQuestion(content: string): string {
  return content.replace(/\n\nMost relevant passages: (?:\[\d+\](?:, )?)+$/, '');
}

/** The passage numbers of a "Most relevant passages: [12], [3]" line ending the latest user message. */
function relevantNumbers(messages: WireMessage[]): number[] {
  const line = /Most relevant passages: ((?:\[\d+\](?:, )?)+)\s*$/.exec(lastUserMessage(messages));
  return line ? [...(line[1] as string).matchAll(/\d+/g)].map((match) => Number(match[0])) : [];
}

/**
 * The answer a well-behaved model gives: the first sentence of the first passage cited (and of the second),
 * or the plain "not covered" sentence when the prompt carries no passage. The passages are those the latest
 * message names as most relevant (full-context prompts), else passages 1 and 2.
 */
export function groundedAnswer(messages: WireMessage[]): string {
  const passages = passagesOf(messages);
  const named = relevantNumbers(messages).flatMap((n) => passages.filter((passage) => passage.n === n));
  const [first, second] = named.length > 0 ? named : passages;
  if (!first) return 'The knowledge file does not cover this question.';
  const answer = `According to the knowledge file, ${firstSentence(first.text)} [${first.n}]`;
  return second ? `${answer} ${firstSentence(second.text)} [${second.n}]` : answer;
}

/** The rewrite instructions before and after the topic they name: the same whatever the topic. */
const [rewriteBefore = '', rewriteAfter = ''] = rewriteInstructionsFor({ en: '\0', zh: '\0' }).split('\0');

/** True for Poquan's follow-up rewrite request, recognised by its fixed instructions around some topic. */
function isRewriteRequest(messages: WireMessage[]): boolean {
  const system = messages.find((message) => message.role === 'system');
  if (system === undefined) return false;
  const text = contentText(system.content);
  return (
    text.length > rewriteBefore.length + rewriteAfter.length &&
    text.startsWith(rewriteBefore) &&
    text.endsWith(rewriteAfter)
  );
}

/** True for Poquan's glossary suggestion request, recognised by its fixed instructions. */
function isGlossaryRequest(messages: WireMessage[]): boolean {
  const system = messages.find((message) => message.role === 'system');
  return system !== undefined && contentText(system.content) === glossarySuggestionInstructions;
}

/** One `n | rendering | note` line for each numbered term of the request that `renderings` knows. */
function glossaryReply(messages: WireMessage[], renderings: Record<string, string>): string {
  const terms = [...lastUserMessage(messages).matchAll(/^(\d+)\. (.+?) \((?:name|figure); in: /gm)];
  return terms
    .flatMap(([, n, term]) => {
      const rendering = renderings[term as string];
      return rendering ? [`${n} | ${rendering} | rendering known to the fake model`] : [];
    })
    .join('\n');
}

/** A literal-minded rewrite: the latest message followed by the last user question before it. */
function rewrittenQuery(messages: WireMessage[]): string {
  const request = lastUserMessage(messages);
  const latest = /Latest message: (.*)$/s.exec(request)?.[1]?.trim() ?? request;
  const earlier = [...request.matchAll(/^User: (.*)$/gm)].at(-1)?.[1]?.trim();
  return earlier ? `${latest} ${earlier}` : latest;
}

function defaultReasoning(messages: WireMessage[]): string {
  const verdict = passagesOf(messages).length > 0 ? 'Passage [1] is relevant.' : 'No passage covers it.';
  return `The user asks: ${lastUserMessage(messages)}. ${verdict}`;
}

function thinkingDisabled(body: Record<string, unknown>): boolean {
  const thinking = body.thinking as { type?: unknown } | undefined;
  return thinking?.type === 'disabled';
}

/** Everything needed to answer one request, resolved once before the first byte goes out. */
interface Plan {
  reply: FakeReply;
  id: string;
  created: number;
  model: string;
  content: string;
  reasoning: string;
  finishReason: 'stop' | 'length' | 'content_filter';
  usage: Usage;
}

function planFor(reply: FakeReply, body: Record<string, unknown>, state: State): Plan {
  const { cache } = state;
  const messages = messagesOf(body);
  const content =
    reply.content ??
    (isRewriteRequest(messages)
      ? rewrittenQuery(messages)
      : isGlossaryRequest(messages)
        ? glossaryReply(messages, state.renderings)
        : [groundedAnswer(messages), reply.addedClaim].filter(Boolean).join(' '));
  const reasoning = thinkingDisabled(body) ? '' : (reply.reasoning ?? defaultReasoning(messages));
  const prompt = JSON.stringify(body.messages);
  const promptTokens = estimateTokens(messages.map((message) => contentText(message.content)).join(''));
  const hit = cache.hitTokens(prompt, promptTokens);
  cache.remember(prompt);
  return {
    reply,
    id: randomUUID(),
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'deepseek-chat',
    content,
    reasoning,
    finishReason: reply.finishReason ?? 'stop',
    usage: usageFor(promptTokens, hit, content, reasoning),
  };
}

/** Splits by code points so no chunk ends inside a surrogate pair. */
function chunksOf(text: string, size: number | 'words'): string[] {
  if (size === 'words') return text.match(/\S+\s*|\s+/g) ?? [];
  const points = Array.from(text);
  const chunks: string[] = [];
  for (let i = 0; i < points.length; i += size) chunks.push(points.slice(i, i + size).join(''));
  return chunks;
}

function chunkEvent(plan: Plan, choices: unknown[], usage?: Usage): string {
  const chunk = {
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    system_fingerprint: 'fp_fake',
    choices,
    ...(usage ? { usage } : {}),
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

function deltaEvent(plan: Plan, delta: Record<string, unknown>, finishReason: string | null = null): string {
  return chunkEvent(plan, [{ index: 0, delta, logprobs: null, finish_reason: finishReason }]);
}

/** A stream step: one event to send, and its text when it is a content chunk (counted by `cutAfterChunks`). */
interface Step {
  event: string;
  isContent: boolean;
  text: string;
}

function payloadSteps(plan: Plan): Step[] {
  const size = plan.reply.chunkWords ? 'words' : Math.max(1, plan.reply.chunkChars ?? 8);
  const reasoning = chunksOf(plan.reasoning, size).map((text) => ({
    event: deltaEvent(plan, { content: null, reasoning_content: text }),
    isContent: false,
    text,
  }));
  const content = chunksOf(plan.content, size).map((text) => ({
    event: deltaEvent(plan, { content: text, reasoning_content: null }),
    isContent: true,
    text,
  }));
  return [...reasoning, ...content];
}

/** Sends reasoning and content chunks; false when the stream was cut or the client went away. */
async function streamPayload(res: ServerResponse, plan: Plan, record: RecordedRequest): Promise<boolean> {
  const { chunkDelayMs = 0, cutAfterChunks, stallAfterChunks, malformed } = plan.reply;
  let contentChunks = 0;
  let malformedSent = false;
  const steps = payloadSteps(plan);
  for (const [index, step] of steps.entries()) {
    if (step.isContent && contentChunks === cutAfterChunks) break;
    if (step.isContent && contentChunks === stallAfterChunks) return false;
    if (index > 0 && !(await pause(res, chunkDelayMs))) return false;
    if (!(await send(res, step.event))) return false;
    if (step.isContent) {
      contentChunks++;
      record.contentChunks.push({ at: performance.now(), text: step.text });
    }
    if (malformed && step.isContent && !malformedSent) {
      malformedSent = true;
      if (!(await send(res, 'data: {"id": this is not json\n\n'))) return false;
    }
  }
  if (cutAfterChunks !== undefined && contentChunks <= cutAfterChunks) {
    res.socket?.destroy();
    return false;
  }
  return true;
}

async function streamCompletion(
  res: ServerResponse,
  plan: Plan,
  body: Record<string, unknown>,
  record: RecordedRequest,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders();
  if (!(await waitForFirstToken(res, plan.reply, ': keep-alive\n\n'))) return;
  const opening = plan.reasoning
    ? { role: 'assistant', content: null, reasoning_content: '' }
    : { role: 'assistant', content: '', reasoning_content: null };
  if (!(await send(res, deltaEvent(plan, opening)))) return;
  if (!(await streamPayload(res, plan, record))) return;
  const closing = deltaEvent(plan, { content: '', reasoning_content: null }, plan.finishReason);
  if (!(await send(res, closing))) return;
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  if (options?.include_usage === true && !(await send(res, chunkEvent(plan, [], plan.usage)))) return;
  if (await send(res, 'data: [DONE]\n\n')) res.end();
}

function completionObject(plan: Plan): unknown {
  return {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: plan.content, reasoning_content: plan.reasoning || null },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    usage: plan.usage,
  };
}

/** Non-streaming: DeepSeek keeps the connection alive with blank lines before the JSON body. */
async function sendCompletion(res: ServerResponse, plan: Plan): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  if (!(await waitForFirstToken(res, plan.reply, '\n'))) return;
  const json = JSON.stringify(completionObject(plan));
  if (plan.reply.malformed) {
    res.end(json.slice(0, Math.floor(json.length / 2)));
    return;
  }
  if (plan.reply.cutAfterChunks !== undefined) {
    if (await send(res, json.slice(0, Math.floor(json.length / 2)))) res.socket?.destroy();
    return;
  }
  res.end(json);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client went away before sending the whole body'));
    });
  });
}

type ParsedBody = { ok: true; value: unknown } | { ok: false; error: string };

function parseJson(text: string): ParsedBody {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** What one fake instance keeps between requests. */
interface State {
  requests: RecordedRequest[];
  queue: FakeReply[];
  rewriteQueue: FakeReply[];
  defaultReply: FakeReply;
  apiKey: string | undefined;
  /** Set: the only models completions accept; unset: any model name is accepted. */
  models: string[] | undefined;
  cache: PromptCache;
  renderings: Record<string, string>;
}

/** Why a request can't reach the model: its status and DeepSeek-style message, or undefined when it can. */
function rejection(
  req: IncomingMessage,
  state: State,
  parsed: ParsedBody,
): (ErrorOptions & { status: number }) | undefined {
  if (state.apiKey !== undefined && bearerKey(req) !== state.apiKey) return { status: 401 };
  if (!parsed.ok)
    return { status: 400, message: `Failed to parse the request body as JSON: ${parsed.error}` };
  const body = parsed.value;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { status: 400, message: 'Invalid Format: the request body must be a JSON object' };
  }
  const messages = (body as Record<string, unknown>).messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return { status: 422, message: 'Invalid Parameters: `messages` must be a non-empty array' };
  }
  const model = (body as Record<string, unknown>).model;
  if (state.models && !state.models.includes(String(model)))
    return { status: 400, message: 'Model Not Exist' };
  return undefined;
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  state: State,
  body: Record<string, unknown>,
  record: RecordedRequest,
): Promise<void> {
  const reply = isRewriteRequest(messagesOf(body))
    ? (state.rewriteQueue.shift() ?? {})
    : (state.queue.shift() ?? state.defaultReply);
  if (reply.hang) return;
  if (reply.status !== undefined && reply.status !== 200) {
    const options = reply.retryAfter === undefined ? {} : { retryAfter: reply.retryAfter };
    return sendError(res, req, reply.status, options);
  }
  const plan = planFor(reply, body, state);
  if (body.stream === true) await streamCompletion(res, plan, body, record);
  else await sendCompletion(res, plan);
}

/** DeepSeek's "Lists Models": `{object: 'list', data: [{id, object: 'model', owned_by}]}`, behind the same key. */
function listModels(req: IncomingMessage, res: ServerResponse, state: State): void {
  if (state.apiKey !== undefined && bearerKey(req) !== state.apiKey) {
    sendError(res, req, 401);
    return;
  }
  const data = (state.models ?? deepseekModels).map((id) => ({ id, object: 'model', owned_by: 'deepseek' }));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ object: 'list', data }));
}

async function handle(req: IncomingMessage, res: ServerResponse, state: State): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const text = await readBody(req);
  const parsed = parseJson(text);
  const record: RecordedRequest = {
    path,
    headers: { ...req.headers },
    body: parsed.ok ? parsed.value : text,
    contentChunks: [],
  };
  state.requests.push(record);
  if (modelListPaths.has(path) && req.method === 'GET') return listModels(req, res, state);
  if (!completionPaths.has(path)) return sendError(res, req, 404);
  if (req.method !== 'POST') return sendError(res, req, 405);
  const refused = rejection(req, state, parsed);
  if (refused) return sendError(res, req, refused.status, refused);
  await answer(req, res, state, (parsed as { value: Record<string, unknown> }).value, record);
}

/** Options for {@link startFakeLlm}; `port` defaults to 0 (an OS-chosen free port). */
export interface FakeLlmOptions {
  defaultReply?: FakeReply;
  apiKey?: string;
  /**
   * The models the account can use: `GET /models` lists them and a completion for any other model gets
   * DeepSeek's 400 "Model Not Exist". Unset: any model is accepted and DeepSeek's current two are listed.
   */
  models?: string[];
  port?: number;
}

/**
 * Starts a fake on 127.0.0.1, resolved once it listens. With `apiKey`, any other bearer key gets DeepSeek's
 * 401. A failing handler never crashes the server: it ends that one response (500, or a dropped socket).
 */
export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const state: State = {
    requests: [],
    queue: [],
    rewriteQueue: [],
    defaultReply: options.defaultReply ?? {},
    apiKey: options.apiKey,
    models: options.models,
    cache: new PromptCache(),
    renderings: {},
  };
  const server = createServer((req, res) => {
    handle(req, res, state).catch(() => {
      if (!res.headersSent) sendError(res, req, 500);
      else res.destroy();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const fake: FakeLlm = {
    url: `http://127.0.0.1:${port}`,
    requests: state.requests,
    enqueue: (...replies) => void state.queue.push(...replies),
    enqueueRewrite: (...replies) => void state.rewriteQueue.push(...replies),
    setDefault: (reply) => {
      state.defaultReply = reply;
    },
    setRenderings: (renderings) => {
      state.renderings = renderings;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}

function portArgument(argv: string[]): number {
  const index = argv.indexOf('--port');
  const port = index === -1 ? 0 : Number(argv[index + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port takes a number 0-65535');
  return port;
}

async function main(): Promise<void> {
  const fake = await startFakeLlm({ port: portArgument(process.argv.slice(2)) });
  console.log(`Fake LLM listening on ${fake.url}`);
  process.once('SIGINT', () => {
    fake.close().then(() => process.exit(0));
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
