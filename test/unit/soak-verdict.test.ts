import { describe, expect, it } from 'vitest';
import {
  type AskedQuestion,
  classifyReply,
  defaultPlan,
  type HeapSample,
  heapGrowthLimitBytes,
  judgeBudgets,
  judgeSoak,
  type SoakObservations,
  type SoakPlan,
} from '../../bench/soak/plan.ts';
import { describeBudgetRefusal, describeErrorForUser, LlmError } from '../../src/core/errors.ts';
import { notCoveredAnswer } from '../../src/core/offline-answer.ts';

const smallPlan: SoakPlan = {
  ...defaultPlan,
  telegramPrivateChats: 1,
  telegramGroups: 1,
  discordChannels: 0,
  discordDms: 0,
  questionsPerChat: 2,
};
const mib = 1024 * 1024;

function question(chat: string, index: number, finalReplies: string[]): AskedQuestion {
  return { chat, index, language: 'en', askedAt: index * 1000, finalReplies, faults: [] };
}

/** Four questions in two chats, each answered once with a citation, and a flat heap. */
function healthyRun(): SoakObservations {
  return {
    plan: smallPlan,
    questions: ['telegram:private:1', 'telegram:group:-2'].flatMap((chat) =>
      [0, 1].map((index) => question(chat, index, ['DeepSeek was founded in 2023 [1].'])),
    ),
    heap: [0, 2, 4].map(
      (questionsDone): HeapSample => ({ questionsDone, heapUsedBytes: 40 * mib, rssBytes: 0 }),
    ),
    unhandledRejections: 0,
    uncaughtExceptions: 0,
    errorLogLines: 0,
  };
}

const failedChecks = (observed: SoakObservations) =>
  judgeSoak(observed)
    .filter((check) => !check.passed)
    .map((check) => check.check);

describe('Soak verdict', () => {
  it('passes a run where every question has one final reply and the heap stays flat', () => {
    expect(failedChecks(healthyRun())).toEqual([]);
  });

  it('fails a question answered twice and one never answered, naming the first', () => {
    const run = healthyRun();
    (run.questions[1] as AskedQuestion).finalReplies.push('A second answer [1].');
    (run.questions[3] as AskedQuestion).finalReplies = [];
    const [check] = judgeSoak(run).filter((c) => !c.passed);
    expect(check?.check).toBe('every question gets exactly one final reply');
    expect(check?.measured).toBe(
      '2 exactly one, 1 none, 1 more than one (first: telegram:group:-2 question 2)',
    );
  });

  it('fails when questions are missing from the run', () => {
    const run = healthyRun();
    run.questions.pop();
    expect(failedChecks(run)).toEqual(['all 4 questions asked']);
  });

  it('fails a heap that grows past the limit after warm-up, but not the warm-up itself', () => {
    const run = healthyRun();
    run.heap[0] = { questionsDone: 0, heapUsedBytes: 10 * mib, rssBytes: 0 };
    expect(failedChecks(run)).toEqual([]);
    run.heap.push({ questionsDone: 4, heapUsedBytes: 40 * mib + heapGrowthLimitBytes, rssBytes: 0 });
    expect(failedChecks(run)).toEqual([
      `heap after GC grows less than ${heapGrowthLimitBytes / mib}.0 MiB from the first to the last sample`,
    ]);
  });

  it('fails on any unhandled rejection, uncaught exception or error log line', () => {
    expect(failedChecks({ ...healthyRun(), unhandledRejections: 1 })).toEqual([
      'no unhandled rejection or uncaught exception',
    ]);
    expect(failedChecks({ ...healthyRun(), errorLogLines: 2 })).toEqual(['no log line at error level']);
  });

  it('counts the "something went wrong on my side" sentence as a failure, in either language', () => {
    const run = healthyRun();
    (run.questions[0] as AskedQuestion).finalReplies = [describeErrorForUser(new Error('boom'), 'zh')];
    expect(failedChecks(run)).toEqual([
      'no reply is the "something went wrong on my side" sentence (an unexpected error)',
    ]);
  });
});

describe('Soak reply kinds', () => {
  it('tells a cited answer, a partial one, a not-covered reply and a model error apart', () => {
    expect(classifyReply('Liang Wenfeng founded it [1].\n\nSources: [1] article')).toBe('answer');
    expect(classifyReply('Liang Wenfeng founded [1]\n\n⚠️ The answer was cut off.')).toBe('partial');
    expect(classifyReply(notCoveredAnswer('zh'))).toBe('not-covered');
    expect(classifyReply(`${notCoveredAnswer('en')}\n\nAsk a person: @operator`)).toBe('not-covered');
    expect(classifyReply(describeErrorForUser(new LlmError('unavailable', 'model 500'), 'en'))).toBe(
      'model-error',
    );
    expect(classifyReply(describeErrorForUser(new Error('bug'), 'en'))).toBe('internal-error');
  });

  it('tells budget refusals apart, whatever their reset time and language', () => {
    const at = Date.parse('2026-03-02T06:00:00Z');
    expect(classifyReply(describeBudgetRefusal('user', at, 'en'))).toBe('budget-refused');
    expect(classifyReply(describeBudgetRefusal('bot', at, 'zh'))).toBe('budget-refused');
  });
});

describe('Soak budget verdict', () => {
  it('passes users who end above the budget by at most their largest answer, if the budget bound someone', () => {
    const users = [
      { tokens: 2900, largestAnswer: 900 },
      { tokens: 2500, largestAnswer: 800 },
      { tokens: 1200, largestAnswer: 700 },
    ];
    expect(judgeBudgets(users, 2500)).toEqual({
      check: "no user exceeds the 2500-token daily budget by more than one answer's tokens",
      measured:
        '3 users, 2 reached the budget, 1 went past it (by at most 400 tokens), 0 by more than their largest answer',
      passed: true,
    });
  });

  it('fails a user two answers past the budget, and a budget nobody reached', () => {
    expect(judgeBudgets([{ tokens: 4000, largestAnswer: 900 }], 2500).passed).toBe(false);
    expect(judgeBudgets([{ tokens: 1000, largestAnswer: 900 }], 2500).passed).toBe(false);
  });

  it('joins the verdict when the run measured budgets', () => {
    const run = { ...healthyRun(), budgetUse: [{ tokens: 9000, largestAnswer: 900 }] };
    expect(failedChecks(run)).toEqual([
      `no user exceeds the ${smallPlan.userDailyTokens}-token daily budget by more than one answer's tokens`,
    ]);
  });
});
