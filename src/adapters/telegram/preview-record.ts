import type { Logger } from '../../core/logger.ts';
import { type Store, withStore } from '../../core/store.ts';
import { storeKeys } from '../../core/store-keys.ts';
import type { SentMessage } from './message-trail.ts';

/** As long as Telegram retries an update: a replay later than that starts from nothing anyway. */
const recordTtlMs = 24 * 3_600_000;

/**
 * The messages an answer to one update has put in its chat so far (a group's growing preview, say), kept in the
 * store, so the process that answers the update again after a kill edits them into the new answer instead of
 * leaving a frozen preview above it, and skips an update whose reply an earlier attempt already delivered (killed
 * before it could mark the update done). A failing store costs only that: the new answer is sent as new messages.
 */
export interface PreviewRecord {
  /** The messages an earlier attempt left ([] the first time). */
  load(): Promise<SentMessage[]>;
  /** Records the messages the answer shows now. */
  save(messages: SentMessage[]): Promise<void>;
  /** Records that the update's final reply is in the chat: a replay of the update is then not answered again. */
  markDelivered(): Promise<void>;
  /** True once an earlier attempt delivered the final reply (false when the store can't tell). */
  wasDelivered(): Promise<boolean>;
}

/** Which update a record is about, and whether it is being handled again. */
export interface RecordedUpdate {
  /** The bot answering: update ids count per bot, and two bots may share a store. */
  botId: number;
  updateId: number;
  /**
   * True when a stopped process started on the update before (see `isReplay`). Only then can messages of an
   * earlier attempt exist, so a first attempt's `load` answers without reading the store.
   */
  replay: boolean;
}

/** The record of the answer to one update. */
export function previewRecordFor(store: Store, update: RecordedUpdate, log: Logger): PreviewRecord {
  const key = storeKeys.telegramPreview(update.botId, update.updateId);
  const deliveredKey = storeKeys.telegramDelivered(update.botId, update.updateId);
  return {
    async load() {
      if (!update.replay) return [];
      try {
        return (await withStore('read', () => store.get<SentMessage[]>(key))) ?? [];
      } catch (error) {
        log.debug({ err: error }, 'could not read what an earlier attempt sent');
        return [];
      }
    },
    async save(messages) {
      try {
        await withStore('write', () => store.set(key, messages, recordTtlMs));
      } catch (error) {
        log.debug({ err: error }, 'could not record the messages sent');
      }
    },
    async markDelivered() {
      try {
        await withStore('write', () => store.set(deliveredKey, true, recordTtlMs));
      } catch (error) {
        log.debug({ err: error }, 'could not record the delivery');
      }
    },
    async wasDelivered() {
      // Read on every attempt, not only on a replay: an update can come back looking new (the kill soak saw one
      // answered twice after two kills in a row), and one read is cheaper than a repeated answer.
      try {
        return (await withStore('read', () => store.get<boolean>(deliveredKey))) === true;
      } catch (error) {
        log.debug({ err: error }, 'could not read whether an earlier attempt delivered');
        return false;
      }
    },
  };
}
