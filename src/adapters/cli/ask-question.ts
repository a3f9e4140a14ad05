import { askCommand } from '../../../commands/ask.ts';
import { cliUserKey } from '../../core/access.ts';
import type { AnswerEvent } from '../../core/answer-events.ts';
import { detectLanguage } from '../../core/question.ts';
import type { Poquan } from '../../poquan.ts';

/** A terminal question: refused by a limit (with the sentence saying why), or answered as a stream. */
export type CliAsk = { refused: string } | { events: AsyncGenerator<AnswerEvent> };

/**
 * Asks as the one CLI user (`cli`): the same `/ask` handler as the chat platforms checks the budgets and the
 * rate limit first, so a refused question never reaches the model. An answered question counts against the
 * `cli` budget and is recorded in the feedback store (platform `cli`) like a delivered chat answer; a store
 * failure only costs the record.
 */
export async function askAsCli(poquan: Poquan, question: string, conversationId: string): Promise<CliAsk> {
  const reply = await askCommand.handler(
    { question },
    { poquan, platform: 'cli', conversationId, userKey: cliUserKey, language: detectLanguage(question) },
  );
  if (reply.type === 'message') return { refused: reply.text };
  const events = poquan.answer(reply.question, conversationId, { platform: 'cli', userKey: cliUserKey });
  return { events: recordDelivered(poquan, events, reply.question, conversationId) };
}

async function* recordDelivered(
  poquan: Poquan,
  events: AsyncGenerator<AnswerEvent>,
  question: string,
  conversationId: string,
): AsyncGenerator<AnswerEvent> {
  for await (const event of events) {
    if (event.type === 'done') {
      await poquan.feedback
        .recordAnswer(event, { platform: 'cli', conversationId, question, userKey: cliUserKey })
        .catch((error: unknown) => poquan.logger.warn({ err: error }, 'could not record the answer'));
    }
    yield event;
  }
}
