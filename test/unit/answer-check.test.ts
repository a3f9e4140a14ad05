import { describe, expect, it } from 'vitest';
import {
  answerLanguage,
  checkAnswer,
  failedCheck,
  statesFact,
  summarizeAnswerChecks,
} from '../../src/core/answer-check.ts';
import type { AnswerDone } from '../../src/core/answer-events.ts';
import { parseKnowledgeFile } from '../../src/core/knowledge.ts';

const file = parseKnowledgeFile(
  'k.md',
  `# K

## Founder

Liang Wenfeng founded the hedge fund High-Flyer in 2015.

## Fund

A fund of 60 billion yuan was announced in January 2025.

## Glossary

| 中文 | English |
| --- | --- |
| 梁文锋 | Liang Wenfeng |
| 幻方量化 / 幻方 | High-Flyer |
| 600亿元 / 六百亿 | 60 billion yuan |
`,
);
const knowledge = { ...file, files: [file.info], version: 'v1' };
const [founder, fund] = file.passages.map((passage) => passage.id) as [string, string];

function done(answer: string, fields: Partial<AnswerDone> = {}): AnswerDone {
  return {
    type: 'done',
    answerId: 'a1',
    answer,
    citations: [],
    mode: 'llm',
    model: 'm',
    usage: undefined,
    knowledgeVersion: 'v1',
    notCovered: false,
    incomplete: false,
    cached: false,
    latencyMs: 1,
    grounding: { passageIds: [founder, fund], ungroundedFigures: [] },
    ...fields,
  };
}

describe('statesFact', () => {
  it('finds the fact verbatim, ignoring case', () => {
    expect(statesFact('It was LIANG WENFENG.', 'Liang Wenfeng', knowledge.glossary)).toBe(true);
  });

  it('accepts the glossary equivalent a Chinese answer uses', () => {
    expect(statesFact('创始人是梁文锋。', 'Liang Wenfeng', knowledge.glossary)).toBe(true);
    expect(statesFact('基金规模为六百亿元。', '60 billion yuan', knowledge.glossary)).toBe(true);
  });

  it('accepts a fact with figures stated by value, with every glossary term it contains', () => {
    expect(statesFact('梁文锋于2015年创立幻方量化。', 'High-Flyer in 2015', knowledge.glossary)).toBe(true);
    expect(statesFact('梁文锋于2016年创立幻方量化。', 'High-Flyer in 2015', knowledge.glossary)).toBe(false);
    expect(statesFact('梁文锋于2015年创立了一家公司。', 'High-Flyer in 2015', knowledge.glossary)).toBe(
      false,
    );
  });

  it('does not accept an answer without the fact', () => {
    expect(statesFact('DeepSeek is a start-up.', 'Liang Wenfeng', knowledge.glossary)).toBe(false);
  });
});

describe('answerLanguage', () => {
  it('reads Chinese prose with English names as Chinese, and English quoting 破圈 as English', () => {
    expect(answerLanguage('DeepSeek 的创始人是梁文锋（Liang Wenfeng）[1]。')).toBe('zh');
    expect(answerLanguage('People call it po quan (破圈), breaking the circle [1].')).toBe('en');
  });

  it('reads an offline answer by its framing line, since its quotes are the knowledge verbatim', () => {
    expect(
      answerLanguage('知识库中最相关的原文语句：\n\n- Liang Wenfeng founded High-Flyer. [1]', 'offline'),
    ).toBe('zh');
  });
});

describe('checkAnswer', () => {
  const qa = { q: 'Who founded High-Flyer?', expect_any: ['Liang Wenfeng'] };

  it('passes an answer whose cited passage holds the fact', () => {
    expect(checkAnswer(qa, done('Liang Wenfeng founded it [1].'), knowledge)).toMatchObject({
      lang: 'en',
      factInAnswer: true,
      leadHasFact: true,
      citedPassageHasFact: true,
      invalidCitations: [],
      languageMatch: true,
    });
  });

  it('fails a citation to the wrong passage and one to no passage', () => {
    expect(checkAnswer(qa, done('Liang Wenfeng founded it [2][3].'), knowledge)).toMatchObject({
      factInAnswer: true,
      citedPassageHasFact: false,
      invalidCitations: [3],
    });
  });

  it('sees whether the first cited statement holds the fact', () => {
    const late = done('A hedge fund was set up in 2015 [1]. Its founder is Liang Wenfeng [1].');
    expect(checkAnswer(qa, late, knowledge)).toMatchObject({ factInAnswer: true, leadHasFact: false });
  });

  it('checks figures against the passages given when the answer carries no grounding (a cached one)', () => {
    const cached = done('Liang Wenfeng raised 70 billion yuan [1].', {
      cached: true,
      grounding: undefined,
      citations: [{ n: 1, id: founder, source: 'k.md', heading: 'Founder' }],
    });
    expect(checkAnswer(qa, cached, knowledge).ungroundedFigures).toEqual(['70 billion']);
  });

  it('expects the not-covered reply, in the asker language, for an out-of-scope question', () => {
    const oos = { q: '巴黎明天天气怎么样？', out_of_scope: true as const };
    expect(checkAnswer(oos, done('知识库没有涉及这个问题。', { notCovered: true }), knowledge)).toMatchObject(
      {
        outOfScope: true,
        notCovered: true,
        languageMatch: true,
        factInAnswer: null,
      },
    );
  });
});

describe('summarizeAnswerChecks', () => {
  it('gives shares over the questions each check applies to, and counts figures and bad citations', () => {
    const qa = { q: 'Who founded High-Flyer?', expect_any: ['Liang Wenfeng'] };
    const report = summarizeAnswerChecks([
      checkAnswer(qa, done('Liang Wenfeng [1].'), knowledge),
      checkAnswer(
        qa,
        done('Someone [9].', { grounding: { passageIds: [founder], ungroundedFigures: ['2031'] } }),
        knowledge,
      ),
      checkAnswer(
        { q: 'Weather?', out_of_scope: true },
        done('Not covered.', { notCovered: true }),
        knowledge,
      ),
      failedCheck(qa, 'the model timed out'),
    ]);
    expect(report).toMatchObject({
      questions: 4,
      factInAnswer: 1 / 3,
      citedPassageHasFact: 1 / 3,
      ungroundedFigures: 1,
      invalidCitations: 1,
      languageMatch: 3 / 4,
      outOfScopeRefused: 1,
    });
  });
});
