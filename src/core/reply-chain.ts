import type { Logger } from './logger.ts';
import type { ConversationMemory, Turn } from './memory.ts';

/** An earlier answer a new question replies to, as the adapter that posted it remembered it. */
export interface RepliedAnswer {
  /** The conversation the answer was given in. */
  conversationId: string;
  /** Who asked the question it answers, in the same terms as `Replier.askerId`. */
  askerId: string;
  /** The turn the answer shows. */
  turn: Turn;
}

/** Who replies to an earlier answer, and the conversation their question would have without the reply. */
export interface Replier {
  askerId: string;
  ownConversationId: string;
}

/**
 * The conversation a reply to an earlier answer continues. The first asker's own reply continues the answer's
 * conversation. Anyone else continues their own conversation, seeded with that one answer (once), so they can ask
 * about it — and never see, or add to, the first asker's history. Memory that can't be read or written costs only
 * the seed: the reply is still answered, in the replier's own conversation.
 */
export async function continueReplyChain(
  memory: ConversationMemory,
  log: Logger,
  replier: Replier,
  answered: RepliedAnswer,
): Promise<string> {
  const own = replier.ownConversationId;
  if (answered.askerId === replier.askerId || answered.conversationId === own) return answered.conversationId;
  try {
    const history = await memory.load(own);
    const seen = history.some(
      (turn) => turn.at === answered.turn.at && turn.question === answered.turn.question,
    );
    if (!seen) await memory.append(own, answered.turn);
  } catch (error) {
    log.warn({ err: error }, 'could not seed the conversation with the replied-to answer');
  }
  return own;
}
