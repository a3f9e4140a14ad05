import { describe, expect, it } from 'vitest';
import { buildRewritePrompt, followUpCue, rewriteInstructionsFor } from '../../src/core/follow-up.ts';
import type { Turn } from '../../src/core/memory.ts';
import { defaultTopic } from '../../src/core/topic.ts';

describe('followUpCue: does a question lean on the conversation?', () => {
  it.each([
    'And who founded it?',
    'Where did his money come from?',
    'What does she say about talent?',
    'How much is each of them worth?',
    '他创办了哪家对冲基金？',
    '它们估值多少？',
    '这家公司是谁创办的？',
  ])('"%s" refers back to something said earlier', (question) => {
    expect(followUpCue(question)).toBe('reference');
  });

  it.each([
    'And Baidu?',
    'What about the six little tigers?',
    'Why?',
    'How much?',
    '为什么？',
    '那阿里巴巴呢？',
    '还有别的公司吗？',
  ])('"%s" continues the conversation', (question) => {
    expect(followUpCue(question)).toBe('continuation');
  });

  it.each([
    'Who founded DeepSeek?',
    'What is the weather in Paris tomorrow?',
    'Which companies make up the six little tigers?',
    '其他公司能复制DeepSeek的成功吗？',
    '中国应该怎么发展人工智能？',
    '巴黎明天天气怎么样？',
  ])('"%s" stands alone', (question) => {
    expect(followUpCue(question)).toBeUndefined();
  });
});

describe('buildRewritePrompt', () => {
  const turn = (question: string, answer: string): Turn => ({
    question,
    answer,
    citations: [],
    knowledgeVersion: 'v',
    at: 0,
  });

  it('gives the fixed instructions, then the last two turns (answers shortened) and the latest message as data', () => {
    const history = [turn('Q1', 'A1'), turn('Q2', 'A2'), turn('Q3', `${'x'.repeat(1000)}`)];
    const [system, user] = buildRewritePrompt(history, 'And who founded it?');
    expect(system).toEqual({ role: 'system', content: rewriteInstructionsFor(defaultTopic) });
    expect(user?.content).not.toContain('Q1');
    expect(user?.content).toContain('User: Q2\nAssistant: A2\nUser: Q3');
    expect(user?.content.length).toBeLessThan(500);
    expect(user?.content.endsWith('Latest message: And who founded it?')).toBe(true);
  });
});
