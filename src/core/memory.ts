import type { Citation } from './answer-events.ts';
import { type Store, withStore } from './store.ts';
import { storeKeys } from './store-keys.ts';

/** One question and the answer given to it, as remembered for follow-ups and `/sources`. */
export interface Turn {
  question: string;
  answer: string;
  citations: Citation[];
  knowledgeVersion: string;
  at: number;
  /** The standalone search query a follow-up was answered from, so a follow-up to it keeps the topic. */
  query?: string;
}

/** Per-conversation history: the last N turns, forgotten after a TTL or on `/reset`. */
export interface ConversationMemory {
  load(conversationId: string): Promise<Turn[]>;
  append(conversationId: string, turn: Turn): Promise<void>;
  reset(conversationId: string): Promise<void>;
}

/**
 * Conversation memory in the shared store. Conversation ids are chosen by adapters (a Telegram chat and
 * topic, a Discord thread …) so one id never spans two platforms.
 */
export function createConversationMemory(
  store: Store,
  options: { turns: number; ttlMs: number },
): ConversationMemory {
  const key = storeKeys.conversation;
  return {
    async load(conversationId) {
      const turns = await withStore('read', () => store.get<Turn[]>(key(conversationId)));
      return Array.isArray(turns) ? turns : [];
    },
    async append(conversationId, turn) {
      if (options.turns === 0) return;
      const turns = await this.load(conversationId);
      const kept = [...turns, turn].slice(-options.turns);
      await withStore('write', () => store.set(key(conversationId), kept, options.ttlMs));
    },
    async reset(conversationId) {
      await withStore('delete', () => store.delete(key(conversationId)));
    },
  };
}
