import { platformOfUserKey } from './access.ts';
import type { AnswerDone } from './answer-events.ts';
import type { Budgets } from './budget.ts';
import { BudgetExhaustedError, RateLimitedError } from './errors.ts';
import type { FeedbackStore } from './feedback.ts';
import type { Logger } from './logger.ts';
import type { MeteredAnswerer } from './metering.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimiter } from './rate-limit.ts';

/** One user turn: a question, where it was asked and by whom. */
export interface Turn {
  question: string;
  /** Chosen by the adapter: a Telegram chat (and topic), a Discord thread or DM, a CLI session. */
  conversationId: string;
  /** Platform-qualified asker (`telegram:42`, `cli`): whose rate limit and budget the turn counts against. */
  userKey: string;
  platform: 'telegram' | 'discord' | 'cli';
  /**
   * The platform event asking, the same each time it is handled (`telegram:<bot id>:<update id>`,
   * `discord:interaction:<id>`, `discord:message:<id>`): a process that answers it again after another stopped
   * passes the same id, so the turn is admitted once (see `createAsker`). Absent where nothing is replayed (the
   * CLI): every call is then a new turn.
   */
  id?: string;
  /** Aborting ends the answer early; the partial answer is still delivered, marked incomplete. */
  signal?: AbortSignal;
  /** Where the turn's log lines go (an adapter's per-request logger); the core logger otherwise. */
  log?: Logger;
}

/** The last event of a turn: the answer, the question it answers, and whether votes on it can be recorded. */
export interface TurnDone extends AnswerDone {
  question: string;
  /**
   * True when the answer is in the feedback store, so 👍 / 👎 under it will find it. A store failure costs only
   * this (no buttons), never the answer.
   */
  votable: boolean;
}

/** What a turn yields, in order: reasoning and text deltas, then exactly one `done`. */
export type TurnEvent = { type: 'reasoning'; delta: string } | { type: 'text'; delta: string } | TurnDone;

/**
 * A turn in, its event stream out, once the turn is admitted: a refused turn rejects before any stream exists,
 * so nothing (a preview, a typing indicator) is shown for it.
 */
export type Asker = (turn: Turn) => Promise<AsyncGenerator<TurnEvent>>;

/** What a turn needs; built once by the composition root. */
export interface TurnDeps {
  answer: MeteredAnswerer;
  budgets: Budgets;
  rateLimiter: RateLimiter;
  feedback: FeedbackStore;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * The one use case every platform runs for a question. Before any model call the daily budgets and the
 * per-user rate limit are checked: a refused turn rejects with `BudgetExhaustedError` or `RateLimitedError`, which
 * each adapter's error boundary phrases (a counter that can't be read lets the question through: an outage of
 * the store must not silence the bot). An admitted turn streams the metered answer and, before its `done`,
 * records the answer for feedback and logs it as answered.
 *
 * A turn handled again under the same `Turn.id` (its first process stopped mid-answer) is one question: the
 * rate limit, which counts questions, neither charges it again nor refuses it, and its answer is counted once.
 * The daily token budgets, which cap what the model costs, still apply to it like to any model call: the replay
 * calls the model again and its tokens are counted, and a budget used up meanwhile refuses it, saying when it
 * resets. Letting replays past an exhausted budget would make every kill (up to a poison update's three tries)
 * an uncapped model call; refusing costs only the one answer the asker is told about.
 */
export function createAsker(deps: TurnDeps): Asker {
  async function admit(turn: Turn, log: Logger): Promise<void> {
    const platform = platformOfUserKey(turn.userKey);
    const budget = await deps.budgets.check(turn.userKey).catch((error: unknown) => {
      log.warn({ err: error }, 'budget counters unavailable; allowing the question');
      return { allowed: true } as const;
    });
    if (!budget.allowed) {
      deps.metrics?.budgetRefusals.inc({ scope: budget.scope, platform });
      log.info(
        { userKey: turn.userKey, budget: budget.scope },
        'question refused: daily token budget used up',
      );
      throw new BudgetExhaustedError(budget.scope, budget.resetsAt);
    }
    const decision = await deps.rateLimiter.take(turn.userKey, turn.id).catch((error: unknown) => {
      log.warn({ err: error }, 'rate limiter unavailable; allowing the question');
      return { allowed: true } as const;
    });
    if (!decision.allowed) {
      deps.metrics?.rateLimited.inc({ platform });
      throw new RateLimitedError(decision.retryAfterSeconds, !decision.firstRefusal);
    }
  }

  async function* answerTurn(turn: Turn, log: Logger): AsyncGenerator<TurnEvent> {
    const started = Date.now();
    const events = deps.answer(turn.question, turn.conversationId, {
      platform: turn.platform,
      userKey: turn.userKey,
      ...(turn.id ? { turnId: turn.id } : {}),
      ...(turn.signal ? { signal: turn.signal } : {}),
    });
    for await (const event of events) {
      if (event.type !== 'done') {
        yield event;
        continue;
      }
      const context = {
        platform: turn.platform,
        conversationId: turn.conversationId,
        question: turn.question,
        userKey: turn.userKey,
      };
      const votable = await deps.feedback.recordAnswer(event, context).then(
        () => true,
        (error: unknown) => {
          log.warn({ err: error, answerId: event.answerId }, 'could not record the answer; no vote buttons');
          return false;
        },
      );
      log.info(
        {
          conversationId: turn.conversationId,
          ms: Date.now() - started,
          mode: event.mode,
          model: event.model,
          citations: event.citations.length,
          cached: event.cached,
          incomplete: event.incomplete,
          incompleteReason: event.incompleteReason,
          usage: event.usage,
          cost: event.cost,
        },
        'answered',
      );
      yield { ...event, question: turn.question, votable };
    }
  }

  return async function ask(turn) {
    const log = turn.log ?? deps.logger;
    await admit(turn, log);
    return answerTurn(turn, log);
  };
}
