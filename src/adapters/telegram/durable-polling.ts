import {
  createConcurrentSink,
  createRunner,
  createSource,
  createUpdateFetcher,
  type FetchOptions,
  type RunnerHandle,
} from '@grammyjs/runner';
import type { Bot, Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../core/logger.ts';
import { type Store, withStore } from '../../core/store.ts';
import { storeKeys } from '../../core/store-keys.ts';
import { handleUpdateFully, mayReplay } from './update-handling.ts';

/** An update this process has received and not yet finished handling. */
interface Unfinished {
  update: Update;
  /** How many processes have started on it; the first is 1. */
  attempts: number;
  /** When it was fetched (ms since the epoch). */
  receivedAt: number;
}

/**
 * Telegram updates received but not yet handled, kept in the store so a process killed mid-answer loses none.
 * Long polling confirms an update as soon as the next `getUpdates` is sent — `@grammyjs/runner` sends it while
 * earlier updates are still being handled — so Telegram alone would never deliver them again.
 */
export interface UpdateInbox {
  /** Records a fetched batch before Telegram is told it arrived; returns the updates not already in hand. */
  admit(updates: Update[]): Promise<Update[]>;
  /** Forgets a handled update (answered, refused or failed with a message): it is never replayed. */
  settle(updateId: number): Promise<void>;
  /**
   * The updates an earlier process received but never finished, oldest first, each counted as one more attempt
   * (`attempts` includes the one about to start), except those `mayReplay` drops (a poison update, one older
   * than Telegram's own retention).
   */
  takeUnfinished(): Promise<Array<{ update: Update; attempts: number }>>;
}

const inboxKey = storeKeys.telegramInbox;
/** Settled ids remembered in memory, so a batch Telegram sends twice is not handled twice. */
const recentlySettledLimit = 1000;

/**
 * Opens the inbox in `store`. This process is the bot's only poller (Telegram allows one `getUpdates` at a
 * time), so memory holds the truth and the store a copy; writes are coalesced, and a failing store costs only
 * the durability of the updates meanwhile, never the updates themselves.
 */
export function createUpdateInbox(store: Store, log: Logger, now: () => number = Date.now): UpdateInbox {
  const pending = new Map<number, Unfinished>();
  const settled = new Set<number>();
  let writing: Promise<void> | undefined;
  let dirty = false;

  /** Resolves once the store holds every change made before the call (or the write failed and was logged). */
  async function persist(): Promise<void> {
    dirty = true;
    while (writing) await writing;
    if (!dirty) return;
    dirty = false;
    const snapshot = Object.fromEntries(pending);
    writing = withStore('write', () => store.set(inboxKey, snapshot))
      .then(() => undefined)
      .catch((error: unknown) => {
        log.warn(
          { err: error, pending: pending.size },
          'update inbox unavailable; updates in flight not kept',
        );
      })
      .finally(() => {
        writing = undefined;
      });
    await writing;
  }

  return {
    async admit(updates) {
      const fresh = updates.filter((u) => !pending.has(u.update_id) && !settled.has(u.update_id));
      if (fresh.length === 0) return fresh;
      for (const update of fresh) pending.set(update.update_id, { update, attempts: 1, receivedAt: now() });
      await persist();
      return fresh;
    },
    async settle(updateId) {
      if (!pending.delete(updateId)) return;
      settled.add(updateId);
      if (settled.size > recentlySettledLimit) settled.delete(settled.values().next().value as number);
      await persist();
    },
    async takeUnfinished() {
      let stored: Record<string, Unfinished> | undefined;
      try {
        stored = await withStore('read', () => store.get<Record<string, Unfinished>>(inboxKey));
      } catch (error) {
        log.warn({ err: error }, 'update inbox unavailable; updates interrupted by a crash are not replayed');
        return [];
      }
      const replays: Array<{ update: Update; attempts: number }> = [];
      for (const entry of Object.values(stored ?? {}).sort(
        (a, b) => a.update.update_id - b.update.update_id,
      )) {
        if (!mayReplay(entry.update.update_id, entry, log, now())) continue;
        pending.set(entry.update.update_id, { ...entry, attempts: entry.attempts + 1 });
        replays.push({ update: entry.update, attempts: entry.attempts + 1 });
      }
      await persist();
      if (replays.length > 0) {
        log.info(
          { updateIds: replays.map((replay) => replay.update.update_id) },
          'replaying updates interrupted by a restart',
        );
      }
      return replays;
    },
  };
}

/** What `startDurablePolling` needs besides the bot. */
export interface DurablePollingOptions {
  inbox: UpdateInbox;
  /** `getUpdates` parameters (timeout, allowed_updates). */
  fetch: FetchOptions;
  log: Logger;
}

/**
 * Long polling as `@grammyjs/runner`'s `run()` does it — concurrent handling, retried fetches — with the
 * inbox in between: each fetched batch is stored before the next `getUpdates` confirms it, each update is
 * settled once handled (its error handler included), and updates a killed process left unfinished are handled
 * again, once, before new ones are fetched.
 * @see https://grammy.dev/plugins/runner
 * @see https://core.telegram.org/bots/api#getupdates
 */
export async function startDurablePolling<C extends Context>(
  bot: Bot<C>,
  options: DurablePollingOptions,
): Promise<RunnerHandle> {
  const { inbox, log } = options;
  const replays = await inbox.takeUnfinished();
  const replayed = new Map(replays.map((replay) => [replay.update, replay.attempts]));
  const fetchUpdates = createUpdateFetcher(bot, { fetch: options.fetch, silent: true });
  const source = createSource({
    supply: async (batchSize, signal) => inbox.admit(await fetchUpdates(batchSize, signal)),
  });
  const sink = createConcurrentSink<Update, unknown>(
    {
      async consume(update) {
        const attempt = replayed.get(update) ?? 1;
        replayed.delete(update);
        await handleUpdateFully(bot, update, log, { attempt });
        await inbox.settle(update.update_id);
      },
    },
    async (error) => {
      log.error({ err: error }, 'update handling failed outside the bot');
    },
  );
  if (replays.length > 0) await sink.handle(replays.map((replay) => replay.update));
  const runner = createRunner(source, sink);
  runner.start();
  return runner;
}
