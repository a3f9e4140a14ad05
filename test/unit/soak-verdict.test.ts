import { describe, expect, it } from 'vitest';
import {
  type AskedQuestion,
  classifyReply,
  defaultPlan,
  findPrivateLeaks,
  type HeapSample,
  heapGrowthLimitBytes,
  isDiscordPreview,
  isTelegramPreview,
  judgeBudgets,
  judgeSoak,
  killSchedule,
  type QuestionKind,
  questionTag,
  readPrompt,
  type SoakObservations,
  type SoakPlan,
  taggedIds,
} from '../../bench/soak/plan.ts';
import { createRandom } from '../../bench/synthetic-corpus.ts';
import { describeBudgetRefusal, describeErrorForUser } from '../../src/core/error-sentences.ts';
import { LlmError } from '../../src/core/errors.ts';
import { notCoveredAnswer } from '../../src/core/offline-answer.ts';

const smallPlan: SoakPlan = {
  ...defaultPlan,
  webhookKills: 0,
  discordKills: 0,
  telegramPrivateChats: 1,
  telegramGroups: 1,
  discordChannels: 0,
  discordDms: 0,
  questionsPerChat: 2,
};
const mib = 1024 * 1024;

let nextId = 1;
function question(
  chat: string,
  index: number,
  finalReplies: string[],
  fields: { asker?: string; kind?: QuestionKind } = {},
): AskedQuestion {
  return {
    id: `q${String(nextId++).padStart(4, '0')}`,
    chat,
    asker: fields.asker ?? chat,
    kind: fields.kind ?? 'telegram-private',
    index,
    language: 'en',
    askedAt: index * 1000,
    finalReplies,
    frozenPreviews: [],
    faults: [],
  };
}

const sample = (process: string, questionsDone: number, heapUsedMiB: number): HeapSample => ({
  process,
  questionsDone,
  heapUsedBytes: heapUsedMiB * mib,
  rssBytes: 0,
});

/** Four questions in two chats, each answered once with a citation, one prompt each, and a flat heap. */
function healthyRun(): SoakObservations {
  const questions = ['telegram:private:1', 'telegram:group:-2'].flatMap((chat) =>
    [0, 1].map((index) => question(chat, index, ['DeepSeek was founded in 2023 [1].'])),
  );
  return {
    plan: smallPlan,
    questions,
    prompts: questions.map((q) => ({ answering: q.id, carries: [q.id] })),
    heap: [0, 2, 4].map((questionsDone) => sample('webhook-1 #1', questionsDone, 40)),
    unexpectedExits: 0,
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

  it('fails a question never answered as lost, naming the first', () => {
    const run = healthyRun();
    const lost = run.questions[3] as AskedQuestion;
    lost.finalReplies = [];
    const [check] = judgeSoak(run).filter((c) => !c.passed);
    expect(check?.check).toBe('no question lost (each has a final reply by the end)');
    expect(check?.measured).toBe(`1 lost (first: telegram:group:-2 question 2, ${lost.id})`);
  });

  it('fails a question answered twice', () => {
    const run = healthyRun();
    const twice = run.questions[1] as AskedQuestion;
    twice.finalReplies.push('A second answer [1].');
    const [check] = judgeSoak(run).filter((c) => !c.passed);
    expect(check?.check).toBe('no question answered twice');
    expect(check?.measured).toBe(
      `1 with more than one final reply (first: telegram:private:1 question 2, ${twice.id})`,
    );
  });

  it('fails a preview left frozen, even when the question was answered again afterwards', () => {
    const run = healthyRun();
    (run.questions[2] as AskedQuestion).frozenPreviews.push('-# 💭 Thinking…');
    expect(failedChecks(run)).toEqual([
      'no frozen preview (a message whose last content is still the "thinking" preview)',
    ]);
    (run.questions[2] as AskedQuestion).finalReplies = [];
    expect(failedChecks(run)).toEqual([
      'no question lost (each has a final reply by the end)',
      'no frozen preview (a message whose last content is still the "thinking" preview)',
    ]);
  });

  it('fails when questions are missing from the run', () => {
    const run = healthyRun();
    run.questions.pop();
    expect(failedChecks(run)).toEqual(['all 4 questions asked']);
  });

  it('fails a heap that grows past the limit within one process life, but not its warm-up', () => {
    const run = healthyRun();
    run.heap[0] = sample('webhook-1 #1', 0, 10);
    expect(failedChecks(run)).toEqual([]);
    run.heap.push(sample('webhook-1 #1', 4, 40 + heapGrowthLimitBytes / mib));
    expect(failedChecks(run)).toEqual([
      `heap after GC grows less than ${heapGrowthLimitBytes / mib}.0 MiB within each process's life`,
    ]);
  });

  it('does not count a restarted process growing from the killed one’s heap, and needs samples', () => {
    const run = healthyRun();
    run.heap.push(...[0, 4, 8].map((done) => sample('webhook-1 #2', done, 10 + done)));
    expect(failedChecks(run)).toEqual([]);
    run.heap.push(
      sample('discord #1', 0, 300),
      sample('discord #1', 4, 200),
      sample('discord #1', 8, 200 + heapGrowthLimitBytes / mib),
    );
    expect(failedChecks(run)).toEqual([
      `heap after GC grows less than ${heapGrowthLimitBytes / mib}.0 MiB within each process's life`,
    ]);
    expect(failedChecks({ ...healthyRun(), heap: [sample('discord #1', 0, 40)] })).toHaveLength(1);
  });

  it('fails on any process that ended by itself, or any error log line', () => {
    expect(failedChecks({ ...healthyRun(), unexpectedExits: 1 })).toEqual([
      'no Poquan process exited unless the soak killed or stopped it',
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

describe('Soak privacy verdict', () => {
  const channel = 'discord:channel:7';
  /** Ada asks publicly then privately; Bob replies to her public answer. */
  function discordRun() {
    const adaPublic = question(channel, 0, ['Answer [1].'], { asker: 'discord:ada', kind: 'discord-ask' });
    const adaPrivate = question(channel, 1, ['Answer [1].'], {
      asker: 'discord:ada',
      kind: 'discord-ask-private',
    });
    const bobReply = question(channel, 2, ['Answer [1].'], { asker: 'discord:bob', kind: 'discord-reply' });
    return { adaPublic, adaPrivate, bobReply, questions: [adaPublic, adaPrivate, bobReply] };
  }

  it("finds a private question in the prompt for another user's question, not in its owner's", () => {
    const { adaPublic, adaPrivate, bobReply, questions } = discordRun();
    const prompts = [
      { answering: adaPublic.id, carries: [adaPublic.id] },
      { answering: adaPrivate.id, carries: [adaPublic.id, adaPrivate.id] },
      { answering: bobReply.id, carries: [adaPublic.id, bobReply.id] },
    ];
    expect(findPrivateLeaks(questions, prompts)).toEqual([]);
    prompts.push({ answering: bobReply.id, carries: [adaPublic.id, adaPrivate.id, bobReply.id] });
    expect(findPrivateLeaks(questions, prompts)).toEqual([
      { privateQuestion: adaPrivate, answering: bobReply },
    ]);
  });

  it('counts a private question in a prompt that answers no tagged question', () => {
    const { adaPrivate, questions } = discordRun();
    expect(findPrivateLeaks(questions, [{ carries: [adaPrivate.id] }])).toEqual([
      { privateQuestion: adaPrivate },
    ]);
  });

  it('joins the verdict, naming the first leak', () => {
    const { adaPrivate, bobReply, questions } = discordRun();
    const run: SoakObservations = {
      ...healthyRun(),
      plan: {
        ...smallPlan,
        telegramPrivateChats: 0,
        telegramGroups: 0,
        discordChannels: 1,
        questionsPerChat: 3,
      },
      questions,
      prompts: [{ answering: bobReply.id, carries: [adaPrivate.id, bobReply.id] }],
    };
    const [check] = judgeSoak(run).filter((c) => !c.passed);
    expect(check).toEqual({
      check: "no private turn in another user's prompt",
      measured: `1 leaks over 1 prompts (1 traced to their question) and 1 private questions (first: ${adaPrivate.id} of discord:ada in the prompt for ${bobReply.id} of discord:bob)`,
      passed: false,
    });
  });

  it('reads which question a model request answers and which it carries, follow-up rewrites included', () => {
    const tagged = (text: string, id: string) => `${text} ${questionTag(id)}`;
    expect(taggedIds(tagged('谁创立了深度求索？', 'q0042'))).toEqual(['q0042']);
    expect(
      readPrompt([
        { role: 'system', content: 'Passages … (ref q0999)' },
        { role: 'user', content: tagged('Who founded DeepSeek?', 'q0001') },
        { role: 'assistant', content: 'Liang Wenfeng [1].' },
        { role: 'user', content: `${tagged('How?', 'q0007')}\n\nMost relevant passages: [1]` },
      ]),
    ).toEqual({ answering: 'q0007', carries: ['q0001', 'q0007'] });
    expect(
      readPrompt([
        { role: 'system', content: 'Rewrite the latest message as a standalone question.' },
        {
          role: 'user',
          content: `User: ${tagged('Who founded DeepSeek?', 'q0001')}\nLatest message: ${tagged('How?', 'q0007')}`,
        },
      ]),
    ).toEqual({ answering: 'q0007', carries: ['q0001', 'q0007'] });
    expect(readPrompt([{ role: 'user', content: 'No tag here' }])).toEqual({ carries: [] });
  });
});

describe('Soak previews', () => {
  it('tells a Telegram preview (reasoning labelled "Thinking", no buttons) from a final answer', () => {
    expect(
      isTelegramPreview({ text: '💭 Thinking…\nThe user asks…\n\nAccording to', hasButtons: false }),
    ).toBe(true);
    expect(isTelegramPreview({ text: '💭 思考中…\n用户问…', hasButtons: false })).toBe(true);
    expect(isTelegramPreview({ text: '💭 Reasoning\nThe user asks…\n\nAnswer [1]', hasButtons: true })).toBe(
      false,
    );
    expect(isTelegramPreview({ text: 'The model provider is unavailable.', hasButtons: false })).toBe(false);
  });

  it('tells a Discord reply in progress from a final one', () => {
    expect(isDiscordPreview('')).toBe(true);
    expect(isDiscordPreview('-# 💭 Thinking… The user asks')).toBe(true);
    expect(isDiscordPreview('According to the knowledge file ▌')).toBe(true);
    expect(isDiscordPreview('According to the knowledge file [1].\n-# Sources: [1] article')).toBe(false);
  });
});

describe('Soak kill schedule', () => {
  it('spreads the planned kills over the middle of the run, in order', () => {
    const plan = { ...defaultPlan, webhookKills: 3, discordKills: 1 };
    const kills = killSchedule(plan, createRandom(7));
    expect(kills.map((kill) => kill.target).sort()).toEqual(['discord', 'webhook', 'webhook', 'webhook']);
    const marks = kills.map((kill) => kill.afterAsked);
    expect(marks).toEqual([...marks].sort((a, b) => a - b));
    for (const mark of marks) expect(mark >= 150 && mark <= 850).toBe(true);
    expect(killSchedule({ ...plan, webhookKills: 0, discordKills: 0 }, createRandom(7))).toEqual([]);
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
