import { afterEach, describe, expect, it } from 'vitest';
import {
  renderFeedbackReportCsv,
  renderFeedbackReportForTerminal,
} from '../../src/adapters/cli/feedback-report.ts';
import { terminalStyle } from '../../src/adapters/cli/render.ts';
import type { AnswerRecord, VoteRecord } from '../../src/core/feedback.ts';
import {
  buildFeedbackReport,
  daysOf,
  normalizeQuestion,
  parseReportRange,
  summarizeFeedback,
} from '../../src/core/feedback-report.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';
import { expectedSeedReport, expectedSeedSpend, seedFeedback } from '../fixtures/feedback-seed.ts';

const opened: OpenedStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

const range = { from: '2026-03-01', to: '2026-03-02' };

function answer(overrides: Partial<AnswerRecord>): AnswerRecord {
  return {
    answerId: 'x',
    platform: 'discord',
    conversationId: 'discord:dm:1',
    question: 'Q?',
    passageIds: [],
    knowledgeVersion: 'v',
    mode: 'llm',
    model: 'm',
    provider: 'deepseek',
    latencyMs: 1,
    usage: null,
    notCovered: false,
    incomplete: false,
    cached: false,
    deliveredAt: Date.parse('2026-03-01T12:00:00Z'),
    ...overrides,
  };
}

function vote(overrides: Partial<VoteRecord>): VoteRecord {
  const at = Date.parse('2026-03-01T12:00:00Z');
  return { ...answer({}), userHash: 'h', vote: 'up', createdAt: at, updatedAt: at, ...overrides };
}

describe('feedback report', () => {
  it('computes the numbers of a seeded history read back from the store, day by day', async () => {
    const store = await openStore('memory://');
    opened.push(store);
    const feedback = await seedFeedback(store);
    expect(await buildFeedbackReport(feedback, range)).toEqual({
      ...expectedSeedReport,
      spend: expectedSeedSpend,
    });
  });

  it('counts only records inside the range, answers by delivery day and votes by first-cast day', () => {
    const inside = Date.parse('2026-03-02T23:59:59Z');
    const before = Date.parse('2026-02-28T23:59:59Z');
    const after = Date.parse('2026-03-03T00:00:00Z');
    const report = summarizeFeedback(
      [answer({ deliveredAt: inside }), answer({ deliveredAt: before }), answer({ deliveredAt: after })],
      [vote({ createdAt: inside, vote: 'down' }), vote({ createdAt: before }), vote({ createdAt: after })],
      range,
    );
    expect(report.answers).toBe(1);
    expect(report.votes).toEqual({ up: 0, down: 1, total: 1, upRatio: 0 });
  });

  it('has no ratio without votes, and names passages that still exist', () => {
    const empty = summarizeFeedback([], [], range);
    expect(empty.votes.upRatio).toBeNull();
    const named = summarizeFeedback([], [vote({ vote: 'down', passageIds: ['p1', 'gone', 'p1'] })], range, {
      describePassage: (id) =>
        id === 'p1' ? { heading: 'Founder', source: 'mini.md', text: 'not copied' } : undefined,
    });
    expect(named.downvotedPassages).toEqual([
      { passageId: 'gone', count: 1 },
      { passageId: 'p1', count: 1, heading: 'Founder', source: 'mini.md' },
    ]);
  });

  it('keeps the top entries only, most frequent first', () => {
    const answers = ['b', 'a', 'b', 'c', 'c', 'c'].map((question) => answer({ question }));
    expect(summarizeFeedback(answers, [], range, { top: 2 }).topQuestions).toEqual([
      { question: 'c', count: 3 },
      { question: 'b', count: 2 },
    ]);
  });

  it('counts a question asked in different shapes as one', () => {
    expect(normalizeQuestion('  Who  founded DeepSeek？ ')).toBe('who founded deepseek');
    expect(normalizeQuestion('ＤｅｅｐＳｅｅｋ的创始人是谁？')).toBe('deepseek的创始人是谁');
  });
});

describe('report range', () => {
  const now = Date.parse('2026-03-15T10:00:00Z');

  it('defaults to the 30 days up to today (UTC)', () => {
    expect(parseReportRange({}, now)).toEqual({ from: '2026-02-14', to: '2026-03-15' });
    expect(parseReportRange({ to: '2026-03-02' }, now)).toEqual({ from: '2026-02-01', to: '2026-03-02' });
    expect(daysOf({ from: '2026-02-27', to: '2026-03-01' })).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
    ]);
  });

  it('rejects malformed and impossible dates, a reversed range and more than a year', () => {
    expect(() => parseReportRange({ from: '2026-3-1' }, now)).toThrow(/--from must be a date as YYYY-MM-DD/);
    expect(() => parseReportRange({ to: '2026-02-30' }, now)).toThrow(/--to must be a date/);
    expect(() => parseReportRange({ from: '2026-03-02', to: '2026-03-01' }, now)).toThrow(/is after --to/);
    expect(() => parseReportRange({ from: '2024-01-01', to: '2026-03-01' }, now)).toThrow(/at most 366 days/);
  });
});

describe('report rendering', () => {
  const seeded = {
    ...expectedSeedReport,
    spend: {
      ...expectedSeedSpend,
      topUsers: [{ user: '0123456789ab', answers: 3, tokens: 360 }],
    },
  };
  const report = {
    ...seeded,
    topQuestions: [
      { question: '=HYPERLINK("http://evil.example")', count: 2 },
      { question: 'who, "really", founded it', count: 1 },
    ],
  };

  it('exports CSV with quoting, and neutralizes cells a spreadsheet would run as formulas', () => {
    const lines = renderFeedbackReportCsv(report).trimEnd().split('\r\n');
    expect(lines[0]).toBe('section,item,count');
    expect(lines).toContain('summary,up_ratio,0.4000');
    expect(lines).toContain(`top_question,"'=HYPERLINK(""http://evil.example"")",2`);
    expect(lines).toContain('top_question,"who, ""really"", founded it",1');
    expect(lines).toContain('knowledge_gap,what is the weather in paris,2');
    expect(lines).toContain('downvoted_passage,p1,2');
    expect(lines).toContain('summary,tokens,720');
    expect(lines).toContain('summary,cache_hit_share,0.2500');
    expect(lines).toContain('summary,cost_USD,1.250000');
    expect(lines).toContain('summary,unpriced_answers,1');
    expect(lines).toContain('top_user,0123456789ab,360');
  });

  it('prints totals and the three lists for a terminal', () => {
    const text = renderFeedbackReportForTerminal(seeded, terminalStyle(false));
    expect(text).toContain('Feedback 2026-03-01 → 2026-03-02 (UTC)');
    expect(text).toContain('answers 6 · not covered 2');
    expect(text).toContain('votes 5 · 👍 2 · 👎 3 · 👍 share 40.0%');
    expect(text).toMatch(/Knowledge gaps[^\n]*\n\s+2 {2}what is the weather in paris/);
    expect(text).toContain(
      'tokens 720 · cache hits 25.0% of prompt · cost USD 1.2500 (+1 answers at an unknown price)',
    );
    expect(text).toMatch(/Top users by tokens[^\n]*\n\s+360 {2}0123456789ab \(3 answers\)/);
  });
});
