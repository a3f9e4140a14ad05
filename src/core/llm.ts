import type { Usage } from './answer-events.ts';
import type { ChatMessage } from './prompt.ts';

/** What a model stream carries, already separated: thinking never mixes with answer text. */
export type LlmChunk =
  | { type: 'reasoning'; delta: string }
  | { type: 'text'; delta: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; reason: string };

/**
 * The port the core talks to models through. Failures are thrown as `LlmError`, also mid-stream, so a
 * caller that already received text can keep it and mark the answer incomplete.
 */
export interface LlmClient {
  readonly model: string;
  readonly provider: string;
  /** The endpoint answers come from; two endpoints serving one model name may answer differently. */
  readonly baseUrl: string;
  streamChat(messages: ChatMessage[], options?: { signal?: AbortSignal }): AsyncIterable<LlmChunk>;
  /**
   * One short answer in one response, for chores such as rewriting a follow-up into a search query:
   * thinking off, no retries, at most `maxTokens`. Throws `LlmError`; aborting `signal` throws `timeout`.
   */
  complete(
    messages: ChatMessage[],
    options: { maxTokens: number; signal?: AbortSignal },
  ): Promise<{ text: string; usage?: Usage }>;
}
