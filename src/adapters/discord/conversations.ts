import type { AnswerDone } from '../../core/answer-events.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConversationMemory, Turn } from '../../core/memory.ts';
import { type Store, withStore } from '../../core/store.ts';
import { storeKeys } from '../../core/store-keys.ts';
import { reportError } from './errors.ts';

/** Where a question was asked, as far as memory is concerned. */
export interface DiscordPlace {
  channelId: string;
  isThread: boolean;
  isDm: boolean;
  userId: string;
  /** Asked with `private:true`: only the asker sees the answer. */
  isPrivate?: boolean;
}

/**
 * The conversation a question belongs to when it is not a reply to one of our answers: a thread is one
 * shared conversation, so is a DM; in an ordinary channel each user has their own, so two people asking
 * side by side don't mix contexts. A private question in a server has a conversation of its own per user, apart
 * from that user's public one, so nothing said privately reaches a public answer or anyone's reply chain.
 * `/reset` forgets the public conversation of the place it is used in.
 */
export function contextConversationId(place: DiscordPlace): string {
  if (place.isDm) return `discord:dm:${place.channelId}`;
  if (place.isPrivate) return `discord:private:user:${place.userId}`;
  if (place.isThread) return `discord:thread:${place.channelId}`;
  return `discord:channel:${place.channelId}:user:${place.userId}`;
}

/** What is kept of a public answer message: the conversation it belongs to, who asked, and the turn it shows. */
export interface AnswerMessage {
  conversationId: string;
  askerId: string;
  turn: Turn;
}

const messageKey = storeKeys.discordAnswerMessage;

/** The turn a finished answer adds to its conversation, as a reply to it will see it. */
export function turnOf(question: string, done: AnswerDone): Turn {
  return {
    question,
    answer: done.answer,
    citations: done.citations,
    knowledgeVersion: done.knowledgeVersion,
    at: Date.now(),
  };
}

/**
 * Remembers our public answer messages, so a reply to any of them can continue from that answer. Kept as long as
 * conversation memory itself. Private (ephemeral) answers are never remembered: no reply chain can reach them.
 */
export async function rememberAnswerMessages(
  store: Store,
  log: Logger,
  messageIds: string[],
  answer: AnswerMessage,
  ttlMs: number,
): Promise<void> {
  try {
    await withStore('write', () =>
      Promise.all(messageIds.map((id) => store.set(messageKey(id), answer, ttlMs))),
    );
  } catch (error) {
    reportError(log, error, 'could not remember answer messages; replies to them start a new conversation');
  }
}

async function answerMessageOf(store: Store, log: Logger, messageId: string) {
  try {
    const found = await withStore('read', () => store.get<AnswerMessage | string>(messageKey(messageId)));
    return typeof found === 'object' && found !== null ? found : undefined;
  } catch (error) {
    reportError(log, error, 'could not look up the replied-to answer; using the asker’s own conversation');
    return undefined;
  }
}

/**
 * The conversation a reply to one of our answers continues. The asker's own reply continues the answer's
 * conversation. Anyone else continues their own conversation in that place, seeded with that one answer (once),
 * so they can ask about it — and never see, or add to, the first asker's history.
 */
export async function conversationForReply(
  deps: { store: Store; memory: ConversationMemory; log: Logger },
  repliedTo: string,
  replier: DiscordPlace,
): Promise<string> {
  const own = contextConversationId(replier);
  const answered = await answerMessageOf(deps.store, deps.log, repliedTo);
  if (!answered) return own;
  if (answered.askerId === replier.userId || answered.conversationId === own) return answered.conversationId;
  try {
    const history = await deps.memory.load(own);
    const seen = history.some(
      (turn) => turn.at === answered.turn.at && turn.question === answered.turn.question,
    );
    if (!seen) await deps.memory.append(own, answered.turn);
  } catch (error) {
    reportError(deps.log, error, 'could not seed the conversation with the replied-to answer');
  }
  return own;
}
