/** One item of work as a queue hands it to a consumer. */
export interface QueuedItem {
  /** The caller's id for the item (a Telegram `update_id`): adding it again is recognised as a redelivery. */
  id: string;
  /** Items of one group (a chat) are begun one at a time, in the order they were added. */
  group: string;
  /** What the caller stored (JSON text). */
  payload: string;
  /** When it was added (ms since the epoch). */
  addedAt: number;
  /** The backend's own handle for the item (a stream entry id, a row number); opaque to callers. */
  ref: string;
}

/** What `add` found: a new item, one still unfinished (owned or not), or one already finished. */
export type Admission = 'added' | 'pending' | 'finished';

/** Whether a consumer may start on an item it claimed. */
export type BeginResult =
  /** Start now: `attempts` counts this start (1 the first time). */
  | { start: true; attempts: number }
  /**
   * Not now: `wait` while an earlier item of its group is unfinished; `lost` once another consumer took it over
   * (this one's lease ran out) or it was finished meanwhile.
   */
  | { start: false; reason: 'wait' | 'lost' };

/** How a consumer opens a queue. */
export interface WorkQueueOptions {
  /** This consumer's name, unique among live processes. */
  consumer: string;
  /** An item whose owner has not renewed its claim for this long is taken over by any consumer. */
  leaseMs: number;
  /** How long a finished item is remembered, so its redelivery is recognised (and an unfinished one kept). */
  retentionMs: number;
}

/**
 * A durable work queue shared by every process on the store, delivering each item at least once: an item is
 * stored by `add` before the caller acknowledges it to its sender, claimed by one consumer at a time under a
 * lease the owner keeps renewing, and forgotten only by `finish`. When an owner dies its lease runs out and any
 * live consumer's next `claim` takes the item over. Within a group, `begin` admits only the oldest unfinished
 * item, so one chat's items are handled in order whichever consumer holds them. Every operation may throw
 * `StoreError` when the backend is unreachable.
 */
export interface WorkQueue {
  /** Stores an item unless one with its id is already stored (unfinished or finished within the retention). */
  add(item: { id: string; group: string; payload: string }): Promise<Admission>;
  /**
   * Up to `limit` items for this consumer, oldest first: items whose owner's lease ran out (or that were given
   * back) and, with `withNew`, items nobody has claimed yet. They are this consumer's until it finishes them or
   * stops renewing them. An instance claims new items right after adding one, so it usually answers the updates
   * it received itself; others take them only now and then, in case it died before claiming.
   */
  claim(limit: number, withNew: boolean): Promise<QueuedItem[]>;
  /** Checks that `item` is still this consumer's and first in its group, renews it and counts an attempt. */
  begin(item: QueuedItem): Promise<BeginResult>;
  /** Renews the lease on items this consumer holds; returns the refs of those it no longer holds. */
  renew(items: QueuedItem[]): Promise<string[]>;
  /** Gives back items this consumer claimed but will not start (it is stopping): any consumer may take them now. */
  release(items: QueuedItem[]): Promise<void>;
  /** Marks `item` done: never claimed again, and `add` reports it as finished for the retention time. */
  finish(item: QueuedItem): Promise<void>;
}
