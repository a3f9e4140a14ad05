import { describe, expect, it } from 'vitest';
import { createConversationMemory, type Turn } from '../../src/core/memory.ts';
import { continueReplyChain, type RepliedAnswer } from '../../src/core/reply-chain.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { openStore } from '../../src/store/open-store.ts';
import { failingStore } from '../fixtures/failing-store.ts';

const log = createLogger('silent');

function turn(question: string, at: number): Turn {
  return { question, answer: `answer to ${question}`, citations: [], knowledgeVersion: 'v', at };
}

async function memoryWithAnswer() {
  const memory = createConversationMemory(await openStore('memory://'), { turns: 5, ttlMs: 60_000 });
  const earlier = turn('Who founded DeepSeek?', 1_000);
  const answered = turn('What does Moonshot make?', 2_000);
  await memory.append('place:alice', earlier);
  await memory.append('place:alice', answered);
  const answer: RepliedAnswer = { conversationId: 'place:alice', askerId: 'alice', turn: answered };
  return { memory, answer };
}

describe('a reply to an earlier answer', () => {
  it('continues the answer’s conversation when the first asker replies', async () => {
    const { memory, answer } = await memoryWithAnswer();
    const conversation = await continueReplyChain(
      memory,
      log,
      { askerId: 'alice', ownConversationId: 'place:alice:elsewhere' },
      answer,
    );
    expect(conversation).toBe('place:alice');
    expect(await memory.load('place:alice:elsewhere')).toEqual([]);
  });

  it('continues a shared conversation (a thread) whoever replies, adding nothing to it', async () => {
    const { memory, answer } = await memoryWithAnswer();
    const conversation = await continueReplyChain(
      memory,
      log,
      { askerId: 'bob', ownConversationId: 'place:alice' },
      answer,
    );
    expect(conversation).toBe('place:alice');
    expect(await memory.load('place:alice')).toHaveLength(2);
  });

  it('gives anyone else their own conversation, seeded once with only that answer', async () => {
    const { memory, answer } = await memoryWithAnswer();
    const bob = { askerId: 'bob', ownConversationId: 'place:bob' };
    expect(await continueReplyChain(memory, log, bob, answer)).toBe('place:bob');
    expect(await continueReplyChain(memory, log, bob, answer)).toBe('place:bob');
    expect((await memory.load('place:bob')).map((t) => t.question)).toEqual(['What does Moonshot make?']);
    expect(await memory.load('place:alice')).toHaveLength(2);
  });

  it('still answers in the replier’s own conversation when memory can’t be used', async () => {
    const { answer } = await memoryWithAnswer();
    const broken = createConversationMemory(failingStore('database is locked'), { turns: 5, ttlMs: 60_000 });
    const conversation = await continueReplyChain(
      broken,
      log,
      { askerId: 'bob', ownConversationId: 'place:bob' },
      answer,
    );
    expect(conversation).toBe('place:bob');
  });
});
