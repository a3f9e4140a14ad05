/**
 * What the soak runs and how its outcome is judged, apart from the processes that run it, so the judging can
 * be tested on its own (test/unit/soak-verdict.test.ts).
 */
import { describeBudgetRefusal, describeErrorForUser } from '../../src/core/error-sentences.ts';
import { notCoveredAnswer } from '../../src/core/offline-answer.ts';

/** The shape of one soak run; `npm run soak` uses {@link defaultPlan}. */
export interface SoakPlan {
  seed: number;
  telegramPrivateChats: number;
  telegramGroups: number;
  /** Guild text channels where two users take turns: `/ask`, `/ask private:true`, @mentions, replies to answers. */
  discordChannels: number;
  /** DMs where users write to the bot directly. */
  discordDms: number;
  questionsPerChat: number;
  /** Share of questions that inject one model fault and, independently, one platform fault. */
  faultRate: number;
  /** SIGKILLs of a random Telegram webhook instance, each restarted at once. */
  webhookKills: number;
  /** SIGKILLs of the Discord process, each restarted at once. */
  discordKills: number;
  /** A chat's first question comes at a random moment in this window, so the load ramps up. */
  startSpreadMs: number;
  /** A user's pause between getting a reply and asking again. */
  thinkMs: [number, number];
  /** A question with no final reply after this long is given up on and the chat moves on. */
  questionTimeoutMs: number;
  /** `BUDGET_USER_DAILY_TOKENS` for the run: low enough that many users reach it within their questions. */
  userDailyTokens: number;
}

/**
 * 1,000 questions in 200 chats (160 Telegram, 40 Discord), 5% model faults and 5% platform faults, three
 * SIGKILLs of a webhook instance and one of the Discord process.
 */
export const defaultPlan: SoakPlan = {
  seed: 20261129,
  telegramPrivateChats: 100,
  telegramGroups: 60,
  discordChannels: 20,
  discordDms: 20,
  questionsPerChat: 5,
  faultRate: 0.05,
  webhookKills: 3,
  discordKills: 1,
  startSpreadMs: 20_000,
  thinkMs: [300, 3000],
  questionTimeoutMs: 90_000,
  userDailyTokens: 8000,
};

/** Every question the plan asks. */
export function questionsIn(plan: SoakPlan): number {
  return (
    (plan.telegramPrivateChats + plan.telegramGroups + plan.discordChannels + plan.discordDms) *
    plan.questionsPerChat
  );
}

/** One SIGKILL of the run: which process, once how many questions have been asked. */
export interface PlannedKill {
  target: 'webhook' | 'discord';
  afterAsked: number;
}

/**
 * When the kills come: each after a random number of questions asked between 15% and 85% of the run, when
 * every kind of chat is busy, in order of that number.
 */
export function killSchedule(plan: SoakPlan, random: () => number): PlannedKill[] {
  const total = questionsIn(plan);
  const at = () => Math.round(total * (0.15 + 0.7 * random()));
  return [
    ...Array.from(
      { length: plan.webhookKills },
      (): PlannedKill => ({ target: 'webhook', afterAsked: at() }),
    ),
    ...Array.from(
      { length: plan.discordKills },
      (): PlannedKill => ({ target: 'discord', afterAsked: at() }),
    ),
  ].sort((a, b) => a.afterAsked - b.afterAsked);
}

/** How a question was asked. Only `discord-ask-private` is private: its text must reach no other user's prompt. */
export type QuestionKind =
  | 'telegram-private'
  | 'telegram-group'
  | 'discord-ask'
  | 'discord-ask-private'
  | 'discord-mention'
  | 'discord-reply'
  | 'discord-dm';

/**
 * The tag that makes a question's text unique in the run (the fixture has 45 questions for 1,000 asks), so a
 * prompt the model received can be traced to the questions it carries.
 */
export function questionTag(id: string): string {
  return `(ref ${id})`;
}

/** The ids of the question tags in `text`, in order. */
export function taggedIds(text: string): string[] {
  return [...text.matchAll(/\(ref (q\d+)\)/g)].map((match) => match[1] as string);
}

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
  /** `q0001`…: unique in the run, carried in the question's text as {@link questionTag}. */
  id: string;
  /** `telegram:private:<chat>`, `telegram:group:<chat>`, `discord:channel:<id>`, `discord:dm:<id>`. */
  chat: string;
  /** `telegram:<user id>` or `discord:<user id>`. */
  asker: string;
  kind: QuestionKind;
  index: number;
  language: 'en' | 'zh';
  /** Milliseconds since the run started. */
  askedAt: number;
  /** When the user saw a final reply and moved on; absent if it never came. */
  settledAt?: number;
  /** Telegram only: when the fake first posted the question's update to the webhook. */
  deliveredAt?: number;
  /**
   * `/ask` only: whether Discord received the bot's response to the interaction (its deferral). Without one,
   * Discord shows the asker that the application did not respond and never sends the event again.
   */
  acknowledged?: boolean;
  /** The final (not in-progress) messages the bot left for this question. */
  finalReplies: string[];
  /** The bot's messages for this question whose last content is still an in-progress preview. */
  frozenPreviews: string[];
  /** Faults injected when this question was asked (they may hit another chat's calls: they are random). */
  faults: string[];
}

/** One request the model received, as far as the privacy check needs it. */
export interface ModelPrompt {
  /** The id of the question the request is for (the last tag in its last user message), if it carries one. */
  answering?: string;
  /** The ids of every question tag anywhere in the request's conversation (system prompt aside). */
  carries: string[];
}

/** Reads a model request's messages (OpenAI chat format) into a {@link ModelPrompt}. */
export function readPrompt(messages: Array<{ role: string; content: unknown }>): ModelPrompt {
  const texts = messages
    .filter((message) => message.role !== 'system')
    .map((message) => ({ role: message.role, text: JSON.stringify(message.content ?? '') }));
  const lastUser = texts.findLast((message) => message.role === 'user');
  const answering = lastUser ? taggedIds(lastUser.text).at(-1) : undefined;
  return {
    ...(answering ? { answering } : {}),
    carries: [...new Set(texts.flatMap((message) => taggedIds(message.text)))],
  };
}

/**
 * A Telegram message still showing an answer being written: the collapsed reasoning of a preview is labelled
 * "Thinking…" (the final answer's is labelled "Reasoning"), and a final answer carries its vote buttons.
 */
export function isTelegramPreview(message: { text: string; hasButtons: boolean }): boolean {
  return !message.hasButtons && /💭 (?:Thinking|思考中)…/.test(message.text);
}

/** A Discord message still being written: deferred and empty, "thinking…", or text ending in the cursor. */
export function isDiscordPreview(content: string): boolean {
  return content === '' || /^-# 💭 (?:Thinking|思考中)…/.test(content) || content.endsWith('▌');
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

/** Memory of one Poquan process after a full garbage collection, sampled as the run goes on. */
export interface HeapSample {
  /** The process and its incarnation, e.g. `webhook-1 #2` (the second start, after a kill). */
  process: string;
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
  /** Every request the model received. */
  prompts: ModelPrompt[];
  heap: HeapSample[];
  /** Poquan processes that ended without being killed or stopped by the soak (a crash). */
  unexpectedExits: number;
  /** Log lines at error level or above, over every Poquan process. */
  errorLogLines: number;
  /** Tokens per user, when the run measured them against `plan.userDailyTokens`. */
  budgetUse?: BudgetUse[];
}

/** Heap growth from the first sample after warm-up to the last that still counts as bounded. */
export const heapGrowthLimitBytes = 24 * 1024 * 1024;

/** A private question's text in a prompt for another user's question (or for no question the run asked). */
export interface PrivateLeak {
  privateQuestion: AskedQuestion;
  /** The question the leaking prompt was for; absent when the prompt named none. */
  answering?: AskedQuestion;
}

/**
 * Every prompt that carries a private question of someone other than the asker of the question it answers.
 * A prompt whose question cannot be told is counted too, since nothing shows it was the owner's.
 */
export function findPrivateLeaks(questions: AskedQuestion[], prompts: ModelPrompt[]): PrivateLeak[] {
  const byId = new Map(questions.map((question) => [question.id, question]));
  return prompts.flatMap((prompt) => {
    const answering = prompt.answering ? byId.get(prompt.answering) : undefined;
    return prompt.carries.flatMap((id) => {
      const carried = byId.get(id);
      if (carried?.kind !== 'discord-ask-private' || carried.asker === answering?.asker) return [];
      return [{ privateQuestion: carried, ...(answering ? { answering } : {}) }];
    });
  });
}

/**
 * Judges a soak run: nothing lost, nothing answered twice, no preview left frozen, no private question in
 * another user's prompt, no unexpected error, bounded memory in every process, nothing crashed, budgets held.
 */
export function judgeSoak(observed: SoakObservations): SoakCheck[] {
  const { plan, questions } = observed;
  const expected = questionsIn(plan);
  const lost = questions.filter((q) => q.finalReplies.length === 0);
  const twice = questions.filter((q) => q.finalReplies.length > 1);
  const frozen = questions.filter((q) => q.frozenPreviews.length > 0);
  const frozenMessages = frozen.reduce((sum, q) => sum + q.frozenPreviews.length, 0);
  const internal = questions.filter((q) => q.finalReplies.some((r) => classifyReply(r) === 'internal-error'));
  const privateQuestions = questions.filter((q) => q.kind === 'discord-ask-private');
  const leaks = findPrivateLeaks(questions, observed.prompts);
  const traced = observed.prompts.filter((prompt) => prompt.answering !== undefined).length;
  const firstLeak = leaks[0];
  return [
    {
      check: `all ${expected} questions asked`,
      measured: `${questions.length} asked`,
      passed: questions.length === expected,
    },
    {
      check: 'no question lost (each has a final reply by the end)',
      measured: `${lost.length} lost${describeFirst(lost)}`,
      passed: lost.length === 0,
    },
    {
      check: 'no question answered twice',
      measured: `${twice.length} with more than one final reply${describeFirst(twice)}`,
      passed: twice.length === 0,
    },
    {
      check: 'no frozen preview (a message whose last content is still the "thinking" preview)',
      measured: `${frozenMessages} messages in ${frozen.length} questions${describeFirst(frozen)}`,
      passed: frozenMessages === 0,
    },
    {
      check: "no private turn in another user's prompt",
      measured: `${leaks.length} leaks over ${observed.prompts.length} prompts (${traced} traced to their question) and ${privateQuestions.length} private questions${firstLeak ? ` (first: ${firstLeak.privateQuestion.id} of ${firstLeak.privateQuestion.asker} in the prompt for ${firstLeak.answering ? `${firstLeak.answering.id} of ${firstLeak.answering.asker}` : 'an untagged question'})` : ''}`,
      passed: leaks.length === 0,
    },
    {
      check: 'no reply is the "something went wrong on my side" sentence (an unexpected error)',
      measured: `${internal.length}${describeFirst(internal)}`,
      passed: internal.length === 0,
    },
    judgeHeap(observed.heap),
    {
      check: 'no Poquan process exited unless the soak killed or stopped it',
      measured: String(observed.unexpectedExits),
      passed: observed.unexpectedExits === 0,
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
 * Memory stays bounded in every process: within each process's life (a kill starts a new one), heap after GC
 * grows less than {@link heapGrowthLimitBytes} from its first sample after warm-up to its last. A process's
 * first sample, taken as it became ready, is warm-up and not compared.
 */
export function judgeHeap(heap: HeapSample[]): SoakCheck {
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const lives = new Map<string, HeapSample[]>();
  for (const sample of heap) lives.set(sample.process, [...(lives.get(sample.process) ?? []), sample]);
  const growths = [...lives].flatMap(([name, samples]) => {
    const [, first, ...rest] = samples;
    const last = rest.at(-1);
    return first && last ? [{ name, first, last, growth: last.heapUsedBytes - first.heapUsedBytes }] : [];
  });
  const worst = growths.sort((a, b) => b.growth - a.growth)[0];
  return {
    check: `heap after GC grows less than ${mib(heapGrowthLimitBytes)} within each process's life`,
    measured: worst
      ? `${growths.length} of ${lives.size} processes sampled often enough; most growth ${worst.name}: ${mib(worst.first.heapUsedBytes)} at ${worst.first.questionsDone} questions → ${mib(worst.last.heapUsedBytes)} at ${worst.last.questionsDone}`
      : 'too few samples',
    passed: worst !== undefined && worst.growth < heapGrowthLimitBytes,
  };
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
  return first ? ` (first: ${first.chat} question ${first.index + 1}, ${first.id})` : '';
}
