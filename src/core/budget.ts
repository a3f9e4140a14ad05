import type { Usage } from './answer-events.ts';
import type { Config } from './config.ts';
import type { AtomicStore } from './store.ts';
import { storeKeys } from './store-keys.ts';

const dayMs = 86_400_000;
/** As long as a turn can be replayed (see `storeKeys.budgetAnswerTurn`). */
const turnClaimTtlMs = dayMs;

/** Which budget refused a question: the asker's own, or the whole bot's. */
export type BudgetScope = 'user' | 'bot';

/** The outcome of checking the budgets before a question: allowed, or refused with which budget and when it resets. */
export type BudgetDecision = { allowed: true } | { allowed: false; scope: BudgetScope; resetsAt: number };

/** One user's figures for the current budget day, as `/usage` shows them. */
export interface UserUsage {
  answers: number;
  tokens: number;
  /** Tokens left today; undefined without a per-user budget (or for an exempt admin). */
  remaining: number | undefined;
  /** The per-user budget that applies; undefined when none does. */
  limit: number | undefined;
  /** Tokens left today for the whole bot; undefined without a bot-wide budget. */
  botRemaining: number | undefined;
  /** Epoch ms when the day's counters start again. */
  resetsAt: number;
}

/** Daily token budgets per user and for the whole bot, counted in the shared store. */
export interface Budgets {
  /** Whether `userKey` may ask now; reads counters only, never changes them. */
  check(userKey: string): Promise<BudgetDecision>;
  /**
   * Counts one delivered answer and the tokens its model call used (none for offline or cached answers). With
   * `turnId` (see `Turn.id`) the answer is counted once per turn, however often the turn is answered again
   * after a stopped process; its tokens are counted every time, since every model call spends them.
   */
  record(userKey: string | undefined, usage: Usage | undefined, turnId?: string): Promise<void>;
  /** The user's answers and tokens today, and what is left of their budget. */
  read(userKey: string): Promise<UserUsage>;
}

/** The start of the budget day containing `now`: the latest `resetUtcHour`:00 UTC at or before it. */
export function budgetDayStart(now: number, resetUtcHour: number): number {
  const day = new Date(now);
  const start = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), resetUtcHour);
  return start <= now ? start : start - dayMs;
}

/**
 * Tokens an answer takes from a budget: prompt plus completion (providers count reasoning inside completion),
 * less the prompt's cache hits when `countCachedTokens` is `none`.
 */
export function budgetTokens(usage: Usage | undefined, countCachedTokens: 'full' | 'none'): number {
  if (!usage) return 0;
  const hits = countCachedTokens === 'none' ? (usage.promptCacheHitTokens ?? 0) : 0;
  return Math.max(0, usage.promptTokens - hits) + usage.completionTokens;
}

/** The settings and collaborators the budgets need. */
export interface BudgetOptions {
  atomic: AtomicStore;
  settings: Config['budget'];
  /** Admins are exempt when `settings.exemptAdmins` is on. */
  isAdmin(userKey: string): boolean;
  now?: () => number;
}

/**
 * Budgets over `AtomicStore.incrementBy` counters keyed by budget day (`budget:user:<userKey>:<day>`,
 * `budget:bot:<day>`), so every instance on a shared store sees the same totals and a new day needs no reset.
 * A question is refused once a total has reached its budget. Tokens are counted after the answer, from the
 * usage the model reported, so a budget can be passed by at most the answers already in flight when it filled:
 * one answer for a user asking in one chat, whose questions are answered one at a time.
 */
export function createBudgets(options: BudgetOptions): Budgets {
  const { atomic, settings } = options;
  const now = options.now ?? Date.now;
  const today = () => {
    const start = budgetDayStart(now(), settings.resetUtcHour);
    // Counters outlive their day by one more, so a late read still finds them; then they expire on their own.
    return {
      id: new Date(start).toISOString().slice(0, 13),
      resetsAt: start + dayMs,
      ttlMs: start + 2 * dayMs - now(),
    };
  };
  const exempt = (userKey: string) => settings.exemptAdmins && options.isAdmin(userKey);
  const read = (key: string, ttlMs: number) => atomic.incrementBy(key, 0, ttlMs);

  return {
    async check(userKey) {
      const day = today();
      if (exempt(userKey)) return { allowed: true };
      const [user, bot] = await Promise.all([
        settings.userDailyTokens === undefined ? 0 : read(storeKeys.userTokens(userKey, day.id), day.ttlMs),
        settings.dailyTokens === undefined ? 0 : read(storeKeys.botTokens(day.id), day.ttlMs),
      ]);
      if (settings.dailyTokens !== undefined && bot >= settings.dailyTokens) {
        return { allowed: false, scope: 'bot', resetsAt: day.resetsAt };
      }
      if (settings.userDailyTokens !== undefined && user >= settings.userDailyTokens) {
        return { allowed: false, scope: 'user', resetsAt: day.resetsAt };
      }
      return { allowed: true };
    },

    async record(userKey, usage, turnId) {
      const day = today();
      const tokens = budgetTokens(usage, settings.countCachedTokens);
      const countAnswer = async (user: string) => {
        if (turnId && !(await atomic.claimOnce(storeKeys.budgetAnswerTurn(turnId), turnClaimTtlMs))) return;
        await atomic.incrementBy(storeKeys.userAnswers(user, day.id), 1, day.ttlMs);
      };
      await Promise.all([
        tokens > 0 ? atomic.incrementBy(storeKeys.botTokens(day.id), tokens, day.ttlMs) : undefined,
        userKey && tokens > 0
          ? atomic.incrementBy(storeKeys.userTokens(userKey, day.id), tokens, day.ttlMs)
          : undefined,
        userKey ? countAnswer(userKey) : undefined,
      ]);
    },

    async read(userKey) {
      const day = today();
      const [answers, tokens, bot] = await Promise.all([
        read(storeKeys.userAnswers(userKey, day.id), day.ttlMs),
        read(storeKeys.userTokens(userKey, day.id), day.ttlMs),
        settings.dailyTokens === undefined ? 0 : read(storeKeys.botTokens(day.id), day.ttlMs),
      ]);
      const limit = exempt(userKey) ? undefined : settings.userDailyTokens;
      return {
        answers,
        tokens,
        limit,
        remaining: limit === undefined ? undefined : Math.max(0, limit - tokens),
        botRemaining:
          settings.dailyTokens === undefined || exempt(userKey)
            ? undefined
            : Math.max(0, settings.dailyTokens - bot),
        resetsAt: day.resetsAt,
      };
    },
  };
}
