import { describe, expect, it } from 'vitest';
import {
  buildGlossarySuggestionPrompt,
  glossarySuggestionInstructions,
  parseGlossarySuggestions,
  type TermToRender,
} from '../../src/core/glossary-suggestion.ts';

const terms: TermToRender[] = [
  { term: 'Yang Zhilin', kind: 'name', context: 'Moonshot AI was founded in 2023 by Yang Zhilin.' },
  { term: 'Kimi K2', kind: 'name', context: 'Moonshot AI released Kimi K2.' },
  { term: '32 billion', kind: 'figure', context: '32 billion are active for each token.' },
];

describe('glossary suggestions', () => {
  it('asks with fixed instructions and the numbered terms, each with the sentence it occurs in', () => {
    const [system, user] = buildGlossarySuggestionPrompt(terms);
    expect(system).toEqual({ role: 'system', content: glossarySuggestionInstructions });
    expect(user?.content).toBe(
      'Terms:\n1. Yang Zhilin (name; in: "Moonshot AI was founded in 2023 by Yang Zhilin.")\n2. Kimi K2 (name; in: "Moonshot AI released Kimi K2.")\n3. 32 billion (figure; in: "32 billion are active for each token.")',
    );
  });

  it('reads `n | 中文 | note` lines and drops what is not a rendering of a numbered term', () => {
    const reply = [
      'Here you go:',
      '1 | 杨植麟 | founder of Moonshot AI',
      '2 | Kimi K2 | kept as written',
      '3 | thirty-two billion | not Chinese',
      '3. ｜ 320亿 ｜',
      '4 | 不存在 | no such term',
      '1 | 杨志林 | a second line for the same term',
    ].join('\n');
    expect(parseGlossarySuggestions(reply, terms)).toEqual([
      { chinese: '杨植麟', english: 'Yang Zhilin', note: 'founder of Moonshot AI' },
      { chinese: 'Kimi K2', english: 'Kimi K2', note: 'kept as written' },
      { chinese: '320亿', english: '32 billion', note: '' },
    ]);
  });
});
