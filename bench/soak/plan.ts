/**
 * What the soak runs and how its outcome is judged, apart from the processes that run it, so the judging can
 * be tested on its own (test/unit/soak-verdict.test.ts).
 */
import { describeBudgetRefusal, describeErrorForUser } from '../../src/core/errors.ts';
import { notCoveredAnswer } from '../../src/core/offline-answer.ts';

/** The shape of one soak run; `npm run soak` uses {@link defaultPlan}. */
export interface SoakPlan {
  seed: number;
  telegramPrivateChats: number;
  telegramGroups: number;
  /** Guild text channels where users run `/ask`. */
  discordChannels: number;
  /** DMs where users write to the bot directly. */
  discordDms: number;
  questionsPerChat: number;
  /** Share of questions that inject one model fault and, independently, one platform fault. */
  faultRate: number;
  /** A chat's first question comes at a random moment in this window, so the load ramps up. */
  startSpreadMs: number;
  /** A user's pause between getting a reply and asking again. */
  thinkMs: [number, number];
  /** A question with no final reply after this long is counted as unanswered and the chat moves on. */
  questionTimeoutMs: number;
  /** `BUDGET_USER_DAILY_TOKENS` for the run: low enough that many users reach it within their questions. */
  userDailyTokens: number;
}

/** 1,000 questions in 200 chats (160 Telegram, 40 Discord), 5% model faults and 5% platform faults. */
export const defaultPlan: SoakPlan = {
  seed: 20261129,
  telegramPrivateChats: 100,
  telegramGroups: 60,
  discordChannels: 20,
  discordDms: 20,
  questionsPerChat: 5,
  faultRate: 0.05,
  startSpreadMs: 20_000,
  thinkMs: [300, 3000],
  questionTimeoutMs: 90_000,
  userDailyTokens: 2500,
};

/** How a reply reads to the person who asked. */
export type ReplyKind =
  | 'answer'
  | 'partial'
  | 'not-covered'
  | 'budget-refused'
  | 'model-error'
  | 'internal-error';

/** One question as the simulated user asked it, and what was visible in the chat for it at the end. */
export interface AskedQuestion {
  /** `telegram:private:<chat>`, `telegram:group:<chat>`, `discord:channel:<id>`, `discord:dm:<id>`. */
  chat: string;
  index: number;
  language: 'en' | 'zh';
  /** Milliseconds since the run started. */
  askedAt: number;
  /** When the user saw a final reply and moved on; absent if it never came. */
  settledAt?: number;
  /** Telegram only: when `getUpdates` handed the question to the bot. */
  deliveredAt?: number;
  /** The final (not in-progress) messages the bot left for this question. */
  finalReplies: string[];
  /** Faults injected when this question was asked (they may hit another chat's calls: they are random). */
  faults: string[];
}

const internalErrorSentences = new Set(
  (['en', 'zh'] as const).map((language) => describeErrorForUser(new Error('unexpected'), language)),
);

/** The budget refusals up to the reset time, which is the only part that varies. */
const budgetRefusalOpenings = (['en', 'zh'] as const).flatMap((language) =>
  (['user', 'bot'] as const).map((scope) => {
    const text = describeBudgetRefusal(scope, 0, language);
    return text.slice(0, text.indexOf('00:00'));
  }),
);

const notCoveredOpenings = (['en', 'zh'] as const).map(
  (language) => notCoveredAnswer(language).split(/(?<=[.。])/)[0] as string,
);

/**
 * Sorts a final reply into a kind: an answer cites at least one passage, a partial one carries the ⚠️ note,
 * and what is left is one sentence saying what failed.
 */
export function classifyReply(text: string): ReplyKind {
  if (internalErrorSentences.has(text.trim())) return 'internal-error';
  if (notCoveredOpenings.some((opening) => text.startsWith(opening))) return 'not-covered';
  if (budgetRefusalOpenings.some((opening) => text.startsWith(opening))) return 'budget-refused';
  if (text.includes('⚠️')) return 'partial';
  if (/\[\d+\]/.test(text)) return 'answer';
  return 'model-error';
}

/** The soak's verdict: each check holds or says what broke. */
export interface SoakCheck {
  check: string;
  measured: string;
  passed: boolean;
}

/** Memory of the bot process after a full garbage collection, once every `every` questions. */
export interface HeapSample {
  questionsDone: number;
  heapUsedBytes: number;
  rssBytes: number;
}

/** One user's tokens over the run, as counted against their budget, and their largest single answer. */
export interface BudgetUse {
  tokens: number;
  largestAnswer: number;
}

/** Everything the checks look at. */
export interface SoakObservations {
  plan: SoakPlan;
  questions: AskedQuestion[];
  heap: HeapSample[];
  unhandledRejections: number;
  uncaughtExceptions: number;
  /** Log lines at error level or above. */
  errorLogLines: number;
  /** Tokens per user, when the run measured them against `plan.userDailyTokens`. */
  budgetUse?: BudgetUse[];
}

/** Heap growth from the first sample after warm-up to the last that still counts as bounded. */
export const heapGrowthLimitBytes = 24 * 1024 * 1024;

/** Judges a soak run: one final reply per question, bounded memory, nothing unhandled. */
export function judgeSoak(observed: SoakObservations): SoakCheck[] {
  const { plan, questions, heap } = observed;
  const chats = plan.telegramPrivateChats + plan.telegramGroups + plan.discordChannels + plan.discordDms;
  const expected = chats * plan.questionsPerChat;
  const none = questions.filter((q) => q.finalReplies.length === 0);
  const several = questions.filter((q) => q.finalReplies.length > 1);
  const internal = questions.filter((q) => q.finalReplies.some((r) => classifyReply(r) === 'internal-error'));
  const afterWarmUp = heap.slice(1);
  const first = afterWarmUp[0];
  const last = afterWarmUp.at(-1);
  const growth = first && last ? last.heapUsedBytes - first.heapUsedBytes : Number.NaN;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return [
    {
      check: `all ${expected} questions asked`,
      measured: `${questions.length} asked`,
      passed: questions.length === expected,
    },
    {
      check: 'every question gets exactly one final reply',
      measured: `${questions.length - none.length - several.length} exactly one, ${none.length} none, ${several.length} more than one${describeFirst([...none, ...several])}`,
      passed: none.length === 0 && several.length === 0,
    },
    {
      check: 'no reply is the "something went wrong on my side" sentence (an unexpected error)',
      measured: `${internal.length}${describeFirst(internal)}`,
      passed: internal.length === 0,
    },
    {
      check: `heap after GC grows less than ${mib(heapGrowthLimitBytes)} from the first to the last sample`,
      measured:
        first && last
          ? `${mib(first.heapUsedBytes)} at ${first.questionsDone} questions → ${mib(last.heapUsedBytes)} at ${last.questionsDone}`
          : 'too few samples',
      passed: Number.isFinite(growth) && growth < heapGrowthLimitBytes,
    },
    {
      check: 'no unhandled rejection or uncaught exception',
      measured: `${observed.unhandledRejections} rejections, ${observed.uncaughtExceptions} exceptions`,
      passed: observed.unhandledRejections === 0 && observed.uncaughtExceptions === 0,
    },
    {
      check: 'no log line at error level',
      measured: String(observed.errorLogLines),
      passed: observed.errorLogLines === 0,
    },
    ...(observed.budgetUse ? [judgeBudgets(observed.budgetUse, plan.userDailyTokens)] : []),
  ];
}

/**
 * Budgets hold when no user went past their budget by more than one answer's tokens: their total minus the
 * budget is at most their largest single answer (the one that was allowed just under the budget).
 */
export function judgeBudgets(users: BudgetUse[], budget: number): SoakCheck {
  const over = users.filter((user) => user.tokens > budget);
  const broken = over.filter((user) => user.tokens - budget > user.largestAnswer);
  const worst = Math.max(0, ...over.map((user) => user.tokens - budget));
  const reached = users.filter((user) => user.tokens >= budget).length;
  return {
    check: `no user exceeds the ${budget}-token daily budget by more than one answer's tokens`,
    measured: `${users.length} users, ${reached} reached the budget, ${over.length} went past it (by at most ${worst} tokens), ${broken.length} by more than their largest answer`,
    passed: broken.length === 0 && reached > 0,
  };
}

function describeFirst(questions: AskedQuestion[]): string {
  const first = questions[0];
  return first ? ` (first: ${first.chat} question ${first.index + 1})` : '';
}
