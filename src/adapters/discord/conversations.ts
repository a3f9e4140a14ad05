import type { Logger } from '../../core/logger.ts';
import { type Store, withStore } from '../../core/store.ts';
import { reportError } from './errors.ts';

/** Where a question was asked, as far as memory is concerned. */
export interface DiscordPlace {
  channelId: string;
  isThread: boolean;
  isDm: boolean;
  userId: string;
}

/**
 * The conversation a question belongs to when it is not a reply to one of our answers: a thread is one
 * shared conversation, so is a DM; in an ordinary channel each user has their own, so two people asking
 * side by side don't mix contexts. `/reset` forgets exactly this conversation.
 */
export function contextConversationId(place: DiscordPlace): string {
  if (place.isDm) return `discord:dm:${place.channelId}`;
  if (place.isThread) return `discord:thread:${place.channelId}`;
  return `discord:channel:${place.channelId}:user:${place.userId}`;
}

const messageKey = (messageId: string) => `discord:message:${messageId}`;

/**
 * Remembers which conversation our answer messages belong to, so a reply to any of them — by anyone —
 * continues that conversation (the reply chain). Kept as long as conversation memory itself.
 */
export async function rememberAnswerMessages(
  store: Store,
  log: Logger,
  messageIds: string[],
  conversationId: string,
  ttlMs: number,
): Promise<void> {
  try {
    await withStore('write', () =>
      Promise.all(messageIds.map((id) => store.set(messageKey(id), conversationId, ttlMs))),
    );
  } catch (error) {
    reportError(log, error, 'could not remember answer messages; replies to them start a new conversation');
  }
}

/** The conversation an earlier answer of ours belongs to, if we still remember it. */
export async function conversationOfAnswer(
  store: Store,
  log: Logger,
  messageId: string,
): Promise<string | undefined> {
  try {
    return await withStore('read', () => store.get<string>(messageKey(messageId)));
  } catch (error) {
    reportError(log, error, 'could not look up the replied-to answer; using the channel conversation');
    return undefined;
  }
}
