import type { CommandServices } from '../../../commands/command.ts';
import { cliUserKey } from '../../core/access.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { isRefusal } from '../../core/errors.ts';
import { detectLanguage } from '../../core/question.ts';
import type { TurnEvent } from '../../core/turn.ts';
import { LimitReachedError } from './errors.ts';

/**
 * Asks as the one CLI user (`cli`): the core's turn, as every chat platform runs it, so the budgets and the rate
 * limit apply first and an answered question is counted and recorded for feedback (platform `cli`). A question
 * refused by a limit throws `LimitReachedError` (exit code 3) with the sentence a chat user would read, in the
 * question's language.
 */
export async function* askAsCli(
  services: Pick<CommandServices, 'ask'>,
  question: string,
  conversationId: string,
): AsyncGenerator<TurnEvent> {
  try {
    yield* await services.ask({ question, conversationId, userKey: cliUserKey, platform: 'cli' });
  } catch (error) {
    if (!isRefusal(error)) throw error;
    throw new LimitReachedError(describeErrorForUser(error, detectLanguage(question)), { cause: error });
  }
}
