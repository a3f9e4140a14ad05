import type { AnswerDone } from '../../core/answer-events.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConversationMemory, Turn } from '../../core/memory.ts';
import { continueReplyChain, type RepliedAnswer } from '../../core/reply-chain.ts';
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

/**
 * What is kept of a public answer message: the conversation it belongs to, who asked (their Discord user id), and
 * the turn it shows.
 */
type AnswerMessage = RepliedAnswer;

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
 * The conversation a reply to one of our answer messages continues (see the core's `continueReplyChain`): a
 * reply to a message that is not a remembered answer, or whose answer can't be looked up, is an ordinary question
 * in the replier's own conversation.
 */
export async function conversationForReply(
  deps: { store: Store; memory: ConversationMemory; log: Logger },
  repliedTo: string,
  replier: DiscordPlace,
): Promise<string> {
  const own = contextConversationId(replier);
  const answered = await answerMessageOf(deps.store, deps.log, repliedTo);
  if (!answered) return own;
  return continueReplyChain(
    deps.memory,
    deps.log,
    { askerId: replier.userId, ownConversationId: own },
    answered,
  );
}
