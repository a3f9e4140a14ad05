import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logger.ts';
import type { ReplyLanguage } from '../../core/question.ts';
import { type Store, withStore } from '../../core/store.ts';
import { storeKeys } from '../../core/store-keys.ts';
import { reportError } from './errors.ts';
import type { TokenSeal } from './token-seal.ts';

/**
 * An answer this bot has started and not yet delivered, as kept in the store: everything a restarted process
 * needs to answer it again (the question, its conversation) and to reach the asker (the interaction's webhook,
 * or the channel and the bot's reply message).
 */
export interface InFlightAnswer {
  /** `interaction:<interaction id>` or `message:<message id>`. */
  id: string;
  kind: 'interaction' | 'message';
  /** The instance answering it; see `createInFlightAnswers`. */
  owner: string;
  /** When the interaction or message arrived (ms since the epoch): its token lives 15 minutes from then. */
  startedAt: number;
  question: string;
  conversationId: string;
  language: ReplyLanguage;
  /** Asked with `private:true`: answered ephemerally, in the asker's private conversation. */
  isPrivate: boolean;
  /** Null for an interaction Discord sent without a channel. */
  channelId: string | null;
  /** Null in DMs. */
  guildId: string | null;
  userId: string;
  /** Interactions: the webhook the answer goes through. */
  applicationId?: string;
  /**
   * Kept in the store only sealed (see `TokenSeal`). Missing from a taken-over record when it could not be
   * opened (the bot token changed since): the interaction can then no longer be answered, as if it had expired.
   */
  token?: string;
  /** Messages: the question's message. */
  messageId?: string;
  /** The message showing the answer (an interaction's `@original`, a message's reply), once it exists. */
  answerMessageId?: string;
}

/** Discord's interaction token lifetime: after this an interaction can no longer be answered or edited. */
export const interactionTokenMs = 15 * 60_000;

/**
 * How long a record is kept: well past the token's lifetime, so a frozen reply to a message is still ended
 * visibly after a long outage.
 */
const recordTtlMs = 24 * 3_600_000;

/** An instance that has not renewed its lease for this long is gone, and its answers are taken over. */
export const ownerLeaseMs = 10_000;

/** A record as the store holds it: the interaction token sealed, never in plain text. */
type StoredAnswer = Omit<InFlightAnswer, 'token'> & { sealedToken?: string };

/**
 * A record as versions before the sealing wrote it, with the interaction token in plain text. One can only be
 * found in the 15 minutes after such an upgrade (the token dies with its interaction); it is still answered,
 * and its token is sealed when the record is taken over, so it is never written in plain text again.
 */
type EarlierStoredAnswer = StoredAnswer & { token?: string };

const indexKey = storeKeys.discordInFlightIndex;
const recordKey = storeKeys.discordInFlight;
const leaseKey = storeKeys.discordInstanceLease;

/** The registry of answers in flight, shared through the store by every instance on one bot token. */
export interface InFlightAnswers {
  /** This process's instance id, different at every start. */
  readonly owner: string;
  /** Records an answer as started, owned by this instance. Never throws (a store failure is logged). */
  begin(record: Omit<InFlightAnswer, 'owner'>): Promise<void>;
  /** Adds what became known while answering (the answer message's id). Never throws. */
  note(id: string, fields: Pick<InFlightAnswer, 'answerMessageId'>): Promise<void>;
  /** Forgets an answer once it has ended visibly. Never throws. */
  finish(id: string): Promise<void>;
  /** Renews this instance's lease, which tells others its answers are still being worked on. */
  renewLease(): Promise<void>;
  /**
   * Answers whose owner is gone (its lease lapsed), each taken over by this instance through the store's atomic
   * claim: when several instances look at once, each orphan goes to exactly one of them.
   */
  takeOrphans(): Promise<InFlightAnswer[]>;
}

/**
 * Keeps answers in flight in the store: a record per answer (kept a day) and a set of their ids to find them
 * by. Each instance renews a short lease while it runs; a record whose owner's lease is gone was left by a
 * process that died (a SIGKILL, a crash, a lost machine). Taking one over claims `resume:<id>:<old owner>` once
 * and rewrites the record with the new owner, so if that instance dies too, the record is an orphan again.
 * Interaction tokens are stored sealed with `seal`, so only instances on the same bot token can use them.
 */
export function createInFlightAnswers(deps: { store: Store; log: Logger; seal: TokenSeal }): InFlightAnswers {
  const { store, log, seal } = deps;
  const owner = randomUUID();
  const quietly = async (what: string, operation: () => Promise<unknown>) => {
    try {
      await withStore(what, operation);
    } catch (error) {
      reportError(log, error, `could not ${what}; a restart would not resume this answer`);
    }
  };
  const save = (record: StoredAnswer) => store.set(recordKey(record.id), record, recordTtlMs);
  const sealed = ({ token, ...record }: InFlightAnswer): StoredAnswer =>
    token === undefined ? record : { ...record, sealedToken: seal.seal(token, record.id) };
  const opened = ({ sealedToken, ...record }: StoredAnswer): InFlightAnswer => {
    const token = sealedToken === undefined ? undefined : seal.open(sealedToken, record.id);
    return token === undefined ? record : { ...record, token };
  };

  return {
    owner,
    begin: (record) =>
      quietly('record the answer in flight', async () => {
        await save(sealed({ ...record, owner }));
        await store.addToSet(indexKey, record.id);
      }),
    note: (id, fields) =>
      quietly('update the answer in flight', async () => {
        const record = await store.get<StoredAnswer>(recordKey(id));
        if (record?.owner === owner) await save({ ...record, ...fields });
      }),
    finish: (id) =>
      quietly('forget the delivered answer', async () => {
        await store.delete(recordKey(id));
        await store.removeFromSet(indexKey, id);
      }),
    renewLease: () =>
      quietly('renew the instance lease', () => store.set(leaseKey(owner), Date.now(), ownerLeaseMs)),
    async takeOrphans() {
      const ids = await withStore('read', () => store.membersOf(indexKey));
      if (ids.length === 0) return [];
      const records = await withStore('read', () =>
        store.getMany<StoredAnswer>(ids.map((id) => recordKey(id))),
      );
      const taken: InFlightAnswer[] = [];
      for (const [index, id] of ids.entries()) {
        const record = records[index];
        if (!record) {
          // Expired after a day, or finished between the two reads: nothing left to do for it.
          await quietly('drop a stale id', () => store.removeFromSet(indexKey, id));
          continue;
        }
        if (record.owner === owner) continue;
        if ((await withStore('read', () => store.get(leaseKey(record.owner)))) !== undefined) continue;
        const claimed = await withStore('claim', () =>
          store.claimOnce(storeKeys.discordResumeClaim(id, record.owner), recordTtlMs),
        );
        if (!claimed) continue;
        // Read again after the claim: one its owner finished meanwhile must not be brought back.
        const current = await withStore('read', () => store.get<EarlierStoredAnswer>(recordKey(id)));
        if (current?.owner !== record.owner) continue;
        // Rewritten through `sealed`, which seals the plain token of an earlier version's record.
        const mine = sealed({ ...current, owner });
        await withStore('write', () => save(mine));
        taken.push(opened(mine));
      }
      return taken;
    },
  };
}
