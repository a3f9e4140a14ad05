import { describe, expect, it } from 'vitest';
import type { KnowledgeBase } from '../../src/core/knowledge.ts';
import {
  asksAboutNow,
  asksAfterKnowledge,
  formatKnowledgeDate,
  knowledgeDateNote,
  knowledgeTimeline,
} from '../../src/core/knowledge-date.ts';

const passage = (text: string) => ({ id: 'k#a-1', source: 'k.md', heading: 'H', headingPath: ['H'], text });
const knowledge = (dates: string[], texts: string[]): KnowledgeBase => ({
  passages: texts.map(passage),
  glossary: [],
  files: dates.map((date, index) => ({ source: `${index}.md`, title: 'T', passageCount: 1, date })),
  version: 'v',
});

describe('knowledge timeline', () => {
  const timeline = knowledgeTimeline(
    knowledge(['2024-06', '2025-02'], ['China aims to lead in AI by 2030.', 'Founded in 2023.']),
  );

  it('runs to the latest file date and knows the years its passages mention', () => {
    expect(timeline.date).toBe('2025-02');
    expect([...timeline.years].sort()).toEqual([2023, 2030]);
  });

  it('flags a question about a later year the passages never mention, in English and Chinese', () => {
    expect(asksAfterKnowledge('What happened in 2027?', timeline)).toBe(true);
    expect(asksAfterKnowledge('2026年最新的进展是什么？', timeline)).toBe(true);
    expect(asksAfterKnowledge('What will China do by 2030?', timeline)).toBe(false);
    expect(asksAfterKnowledge('What happened in 2023?', timeline)).toBe(false);
    expect(asksAfterKnowledge('Who founded DeepSeek?', timeline)).toBe(false);
  });

  it('never flags anything when no file has a date', () => {
    expect(asksAfterKnowledge('What happened in 2099?', knowledgeTimeline(knowledge([], ['x'])))).toBe(false);
  });

  it('recognises questions about the present', () => {
    expect(asksAboutNow("What is DeepSeek's latest model?")).toBe(true);
    expect(asksAboutNow('DeepSeek目前有多少用户？')).toBe(true);
    expect(asksAboutNow('Who founded DeepSeek?')).toBe(false);
  });

  it('says how far the knowledge runs, in the asker language', () => {
    expect(formatKnowledgeDate('2025-02', 'en')).toBe('February 2025');
    expect(formatKnowledgeDate('2025-02-05', 'en')).toBe('5 February 2025');
    expect(formatKnowledgeDate('2025-02-05', 'zh')).toBe('2025年2月5日');
    expect(formatKnowledgeDate('early 2025', 'en')).toBe('early 2025');
    expect(knowledgeDateNote('2025-02', 'en')).toBe(
      'The knowledge file runs to February 2025; it has nothing on later events.',
    );
    expect(knowledgeDateNote('2025-02', 'zh')).toBe('知识库的内容截至2025年2月，不包含之后的事件。');
  });
});
