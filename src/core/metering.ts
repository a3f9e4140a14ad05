import type { Answerer, AnswerOptions } from './answer.ts';
import type { AnswerEvent } from './answer-events.ts';
import type { Budgets } from './budget.ts';
import { costOf } from './cost.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { PriceTable } from './providers.ts';

/** Options for a metered answer: those of `answer()`, plus who asked, whose budget the answer counts against. */
export interface MeteredAnswerOptions extends AnswerOptions {
  /** Platform-qualified user id (`telegram:42`, `cli`); absent counts the tokens for the bot only. */
  userKey?: string;
  /** The turn being answered (`Turn.id`): its answer is counted once however often it is answered. */
  turnId?: string;
}

/** `answer()` with the asker's key; the final event carries the answer's cost. */
export type MeteredAnswerer = (
  question: string,
  conversationId: string,
  options?: MeteredAnswerOptions,
) => AsyncGenerator<AnswerEvent>;

/** What metering needs. */
export interface MeteringDeps {
  budgets: Budgets;
  prices: PriceTable | undefined;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Wraps `answer()` so every delivered answer is priced and counted: the `done` event gains `cost` (usage ×
 * prices), the cost metric grows, and the tokens are added to the asker's and the bot's budgets before `done`
 * is passed on — so the asker's next question already sees them. A store failure is logged and the answer
 * goes on: losing a count must not lose an answer. Other events pass through untouched.
 */
export function meterAnswers(answer: Answerer, deps: MeteringDeps): MeteredAnswerer {
  return async function* meteredAnswer(question, conversationId, options = {}) {
    const { userKey, turnId, ...answerOptions } = options;
    for await (const event of answer(question, conversationId, answerOptions)) {
      if (event.type !== 'done') {
        yield event;
        continue;
      }
      const cost = costOf(event.usage, deps.prices);
      if (cost) {
        event.cost = cost;
        if (cost.amount > 0)
          deps.metrics?.llmCost.inc(
            { currency: cost.currency, model: event.model ?? 'unknown' },
            cost.amount,
          );
      }
      try {
        await deps.budgets.record(userKey, event.usage, turnId);
      } catch (error) {
        deps.logger.warn({ err: error, userKey }, 'budget counters unavailable; answer not counted');
      }
      yield event;
    }
  };
}
