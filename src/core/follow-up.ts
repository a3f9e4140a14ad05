import type { LlmClient } from './llm.ts';
import type { Turn } from './memory.ts';
import type { ChatMessage } from './prompt.ts';
import { tokenize } from './tokenize.ts';
import { defaultTopic, type Topic } from './topic.ts';

/**
 * How a question leans on the conversation: `reference` names something said earlier with a pronoun or a
 * demonstrative ("who founded it?", "他是谁？"); `continuation` only continues it ("and Baidu?", "why?",
 * "那阿里呢？"). Undefined: the question stands alone and is answered like a first question.
 */
export type FollowUpCue = 'reference' | 'continuation';

// "that" and "there" are left out: mostly relative or existential ("the firm that …", "are there …").
const englishReference =
  /\b(it|its|itself|they|them|their|theirs|he|him|his|she|her|hers|this|these|those)\b/i;
const englishContinuation = /^\s*(and|but|also|so|then|or|what about|how about|what else|why not)\b/i;
// 他 inside 其他 ("other") and 该 inside 应该 ("should") are not references.
const chineseReference = /它|(?<!其)他|她|(?<!应)该|这家|那家|这个|那个|这些|那些|这位|那位|此/;
const chineseContinuation = /^\s*(那么?|还有|另外|而且?|并且|以及|然后)|呢\s*[？?]?\s*$/;

/** Decides lexically whether a question depends on the conversation before it, and how. */
export function followUpCue(question: string): FollowUpCue | undefined {
  if (englishReference.test(question) || chineseReference.test(question)) return 'reference';
  if (englishContinuation.test(question) || chineseContinuation.test(question)) return 'continuation';
  // Ellipsis: nothing left after stop words ("Why?", "How much?", "为什么？") can only mean the last topic.
  if (tokenize(question).length === 0) return 'continuation';
  return undefined;
}

/** The search query the last turn ran on: its rewritten query for a follow-up, else its question. */
export function searchQueryOf(turn: Turn): string {
  return turn.query ?? turn.question;
}

/**
 * The model's instructions for a rewrite, naming the topic in force as the system rules do. The fake model
 * recognises a rewrite request by this text around the topic, so change both together.
 */
export function rewriteInstructionsFor(topic: Topic): string {
  return `Rewrite the user's latest message as one standalone search query for a knowledge base about ${topic.en}. Replace pronouns and references with the names they stand for, using the conversation. Keep the message's language. If the latest message starts a new topic, return it unchanged. Reply with the query only.`;
}

const answerExcerptChars = 300;
const rewriteMaxTokens = 60;
const rewriteMaxChars = 300;

/** The rewrite request: the instructions, then the recent conversation and the latest message as data. */
export function buildRewritePrompt(
  history: Turn[],
  question: string,
  topic: Topic = defaultTopic,
): ChatMessage[] {
  const transcript = history
    .slice(-2)
    .flatMap((turn) => [
      `User: ${turn.question}`,
      `Assistant: ${turn.answer.replace(/\s+/g, ' ').slice(0, answerExcerptChars)}`,
    ]);
  return [
    { role: 'system', content: rewriteInstructionsFor(topic) },
    {
      role: 'user',
      content: `Conversation:\n${transcript.join('\n')}\n\nLatest message: ${question}`,
    },
  ];
}

/**
 * Asks the model for a follow-up's standalone search query: one short non-streamed call with thinking off,
 * abandoned after `timeoutMs`. Resolves undefined on any failure, timeout or unusable reply, so the caller
 * falls back to the lexical rule; it never throws.
 */
export async function rewriteFollowUp(
  llm: LlmClient,
  history: Turn[],
  question: string,
  options: { timeoutMs: number; signal?: AbortSignal; topic?: Topic },
): Promise<string | undefined> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const { text } = await llm.complete(buildRewritePrompt(history, question, options.topic), {
      maxTokens: rewriteMaxTokens,
      signal,
    });
    const query = text.trim().replace(/^["“'「]|["”'」]$/g, '');
    return query && query.length <= rewriteMaxChars ? query : undefined;
  } catch {
    return undefined;
  }
}
