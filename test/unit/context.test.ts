import { describe, expect, it } from 'vitest';
import { chooseContextStrategy, describeContextStrategy } from '../../src/core/context.ts';
import { loadKnowledge } from '../../src/core/knowledge.ts';
import { buildPrompt, renderSystemMessage } from '../../src/core/prompt.ts';
import { estimateTokens, formatTokens } from '../../src/core/token-estimate.ts';

const knowledge = await loadKnowledge('test/fixtures/knowledge-mini');

describe('estimateTokens', () => {
  it('counts a CJK character as a token and other characters as 0.3, rounding up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcdefghij')).toBe(3);
    expect(estimateTokens('梁文锋')).toBe(3);
    expect(estimateTokens('DeepSeek的创始人')).toBe(7);
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(4321)).toBe('4.3k');
    expect(formatTokens(16_000)).toBe('16k');
  });
});

describe('chooseContextStrategy', () => {
  const settings = { mode: 'auto', budgetTokens: 16_000, topK: 4 } as const;

  it('takes full context in auto mode when every passage fits the budget, with one prebuilt system message', () => {
    const strategy = chooseContextStrategy(knowledge, settings);
    expect(strategy.mode).toBe('full');
    expect(strategy.passages.map(({ passage }) => passage.id)).toEqual(knowledge.passages.map((p) => p.id));
    expect(strategy.systemMessage).toBe(renderSystemMessage(strategy.passages));
    expect(strategy.fullContextTokens).toBe(estimateTokens(strategy.systemMessage ?? ''));
    expect(strategy.numberOf.get(knowledge.passages[1]?.id ?? '')).toBe(2);
    expect(strategy.timeline.date).toBe('2025-02-05');
  });

  it('retrieves in auto mode over budget, and obeys CONTEXT_MODE=full or retrieve whatever the size', () => {
    const over = chooseContextStrategy(knowledge, { ...settings, budgetTokens: 10 });
    expect(over).toMatchObject({ mode: 'retrieve', passages: [] });
    expect(over.systemMessage).toBeUndefined();
    expect(chooseContextStrategy(knowledge, { ...settings, mode: 'full', budgetTokens: 10 }).mode).toBe(
      'full',
    );
    expect(chooseContextStrategy(knowledge, { ...settings, mode: 'retrieve' }).mode).toBe('retrieve');
  });

  it('says which mode is in force and why', () => {
    const full = chooseContextStrategy(knowledge, settings);
    const tokens = formatTokens(full.fullContextTokens);
    expect(describeContextStrategy(full, 'en')).toBe(
      `full context: 2 passages, ~${tokens} tokens ≤ budget 16k`,
    );
    expect(describeContextStrategy(full, 'zh')).toBe(`全文上下文：2 段，全文约 ${tokens} tokens ≤ 预算 16k`);
    const forced = chooseContextStrategy(knowledge, { ...settings, mode: 'retrieve', budgetTokens: 10 });
    expect(describeContextStrategy(forced, 'en')).toBe(
      `retrieval, top 4 passages per question (CONTEXT_MODE=retrieve): 2 passages, ~${tokens} tokens > budget 10`,
    );
  });

  it('keeps the system message identical for every question; only the last user message varies', () => {
    const strategy = chooseContextStrategy(knowledge, settings);
    const context = { systemMessage: strategy.systemMessage ?? '', relevant: [2, 1] };
    const a = buildPrompt('Who founded High-Flyer?', strategy.passages, [], context);
    const b = buildPrompt('国家基金有多大？', strategy.passages, [], { ...context, relevant: [2] });
    expect(a[0]).toEqual(b[0]);
    expect(a.at(-1)?.content).toBe('Who founded High-Flyer?\n\nMost relevant passages: [2], [1]');
  });
});
