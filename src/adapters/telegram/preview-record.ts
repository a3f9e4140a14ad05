import type { Logger } from '../../core/logger.ts';
import type { Store } from '../../core/store.ts';
import { storeKeys } from '../../core/store-keys.ts';
import type { SentMessage } from './message-trail.ts';

/** As long as Telegram retries an update: a replay later than that starts from nothing anyway. */
const recordTtlMs = 24 * 3_600_000;

/**
 * The messages an answer to one update has put in its chat so far (a group's growing preview, say), kept in the
 * store per attempt, so the process that answers the update again after a kill edits them into the new answer
 * instead of leaving a frozen preview above it, and skips an update whose reply an earlier attempt already
 * delivered (killed before it could mark the update done). A later attempt also takes the update over: an
 * earlier one that is still running — its process stalled past the work queue's lease, so another took the
 * update — learns at its next message that the chat is no longer its to write to (see `isCurrent`). A failing
 * store costs only that: the new answer is sent as new messages. Beyond any record: a message Telegram created
 * for a process killed before its reply came back (the Bot API has no idempotent send, nor a way to list a
 * chat), which stays as that attempt left it.
 */
export interface PreviewRecord {
  /**
   * The messages the latest attempt so far left ([] the first time), after taking the update over from the
   * earlier attempts.
   */
  load(): Promise<SentMessage[]>;
  /** Records the messages the answer shows now; resolves false once a later attempt took the update over. */
  save(messages: SentMessage[]): Promise<boolean>;
  /** False once a later attempt took the update over (true when the store can't tell). */
  isCurrent(): Promise<boolean>;
  /** Records that the update's final reply is in the chat: a replay of the update is then not answered again. */
  markDelivered(): Promise<void>;
  /** True once an earlier attempt delivered the final reply (false when the store can't tell). */
  wasDelivered(): Promise<boolean>;
}

/** Which update a record is about, and which attempt at it this is. */
export interface RecordedUpdate {
  /** The bot answering: update ids count per bot, and two bots may share a store. */
  botId: number;
  updateId: number;
  /**
   * 1 the first time; more when a process started on the update before (see `attemptOf`). Only then can messages
   * of an earlier attempt exist, so a first attempt's `load` answers without reading the store.
   */
  attempt: number;
}

/** The record of one attempt at answering one update. */
export function previewRecordFor(store: Store, update: RecordedUpdate, log: Logger): PreviewRecord {
  const { botId, updateId, attempt } = update;
  const key = storeKeys.telegramPreview(botId, updateId, attempt);
  const attemptKey = storeKeys.telegramAttempt(botId, updateId);
  const deliveredKey = storeKeys.telegramDelivered(botId, updateId);
  const isCurrent = async () => {
    try {
      const latest = await store.get<number>(attemptKey);
      return latest === undefined || latest <= attempt;
    } catch (error) {
      log.debug({ err: error }, 'could not read which attempt answers the update');
      return true;
    }
  };
  return {
    async load() {
      if (attempt === 1) return [];
      try {
        // Taken over before reading: an earlier attempt that records a message after this read sees the takeover
        // once it has recorded it, and takes the message back (see `MessageTrail`).
        await store.set(attemptKey, attempt, recordTtlMs);
        // This attempt's own record too: an error sentence after a failed answer starts from what that left.
        const attempts = Array.from({ length: attempt }, (_, i) =>
          storeKeys.telegramPreview(botId, updateId, i + 1),
        );
        const records = await store.getMany<SentMessage[]>(attempts);
        return records.findLast((messages) => messages !== undefined) ?? [];
      } catch (error) {
        log.debug({ err: error }, 'could not read what an earlier attempt sent');
        return [];
      }
    },
    async save(messages) {
      try {
        await store.set(key, messages, recordTtlMs);
      } catch (error) {
        log.debug({ err: error }, 'could not record the messages sent');
      }
      return isCurrent();
    },
    isCurrent,
    async markDelivered() {
      try {
        await store.set(deliveredKey, true, recordTtlMs);
      } catch (error) {
        log.debug({ err: error }, 'could not record the delivery');
      }
    },
    async wasDelivered() {
      // Read on every attempt, not only on a later one: an update the store could not queue is handled at once
      // as a first attempt, and may still be stored and handed out again as a first attempt (see the webhook).
      try {
        return (await store.get<boolean>(deliveredKey)) === true;
      } catch (error) {
        log.debug({ err: error }, 'could not read whether an earlier attempt delivered');
        return false;
      }
    },
  };
}
