import { createHash, randomBytes } from 'node:crypto';
import type { AnswerDone, Cost, Usage } from './answer-events.ts';
import { catalogFor } from './catalog/catalog.ts';
import type { AnswerMode } from './config.ts';
import { createKeyedQueue } from './keyed-queue.ts';
import type { Metrics } from './metrics.ts';
import type { ReplyLanguage } from './question.ts';
import { type Store, withStore } from './store.ts';
import { storeKeys } from './store-keys.ts';

/** A user's verdict on an answer. */
export type Vote = 'up' | 'down';

/**
 * What is kept of every delivered answer, so a later vote can refer to it and the report can count it:
 * the question, what the answer rested on (passage ids, knowledge version) and what it cost.
 */
export interface AnswerRecord {
  answerId: string;
  /** `telegram`, `discord` … */
  platform: string;
  conversationId: string;
  question: string;
  /** The cited passages, in citation order. */
  passageIds: string[];
  knowledgeVersion: string;
  mode: AnswerMode;
  model: string | null;
  provider: string | null;
  latencyMs: number;
  usage: Usage | null;
  /** What the answer cost; null when the price was unknown (older records lack the field). */
  cost?: Cost | null;
  /** Who asked, as the same salted hash votes use; null when the adapter did not say (older records lack it). */
  askerHash?: string | null;
  notCovered: boolean;
  incomplete: boolean;
  cached: boolean;
  /** Epoch ms when the answer was delivered. */
  deliveredAt: number;
}

/**
 * One user's vote on one answer. It copies the answer's fields, so a vote stays meaningful after the answer
 * record expires. The user appears only as a salted SHA-256 hash, never as a platform id.
 */
export interface VoteRecord extends AnswerRecord {
  userHash: string;
  vote: Vote;
  /** Epoch ms of the first vote by this user on this answer. */
  createdAt: number;
  /** Epoch ms of the latest change. */
  updatedAt: number;
}

/** What happened to a vote; `unknown_answer` when the answer expired or was never recorded. */
export type VoteOutcome =
  | { status: 'recorded' | 'changed' | 'unchanged'; record: VoteRecord }
  | { status: 'unknown_answer' };

/** Where an answer was given, as the adapter knows it. */
export interface AnswerContext {
  platform: string;
  conversationId: string;
  question: string;
  /** Who asked (`telegram:42`, `cli`); stored only as a salted hash, for the top users in `/stats`. */
  userKey?: string;
}

/** Feedback kept in the shared store: answers, votes, and the day indexes the report reads. */
export interface FeedbackStore {
  /** Records a delivered answer; call it before showing the vote buttons, so a click always finds it. */
  recordAnswer(done: AnswerDone, context: AnswerContext): Promise<AnswerRecord>;
  getAnswer(answerId: string): Promise<AnswerRecord | undefined>;
  /**
   * Records `voterId`'s vote (a platform-qualified id such as `telegram:42`, hashed before storage). One record
   * per answer and user: voting again changes it. With `conversationId`, an answer given in any other
   * conversation counts as unknown, so a press elsewhere (a forged or copied button) can't rate it.
   */
  vote(input: {
    answerId: string;
    voterId: string;
    vote: Vote;
    conversationId?: string;
  }): Promise<VoteOutcome>;
  /** True for the first caller per answer, so a 👎 hand-off is posted once however many people vote. */
  claimHandoff(answerId: string): Promise<boolean>;
  /** Answers delivered on a UTC day (`YYYY-MM-DD`) that are still retained. */
  listAnswers(day: string): Promise<AnswerRecord[]>;
  /** Votes first cast on a UTC day, as they stand now. */
  listVotes(day: string): Promise<VoteRecord[]>;
}

/** Options for `createFeedbackStore`. */
export interface FeedbackStoreOptions {
  store: Store;
  /** How long answers, votes and index entries are kept. */
  retentionMs: number;
  /** The model provider answers come from; absent in offline mode. */
  provider?: string | undefined;
  /** The clock; tests seed records on fixed dates. */
  now?: () => number;
  /** Counts each new or changed vote, so a dashboard sees satisfaction without running the report. */
  votes?: Metrics['votes'];
}

/** The UTC day of an epoch-ms time, as `YYYY-MM-DD`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The short acknowledgement a voter sees (a Telegram toast, a Discord ephemeral reply), in their language. */
export function describeVoteOutcome(outcome: VoteOutcome | 'failed', language: ReplyLanguage): string {
  const key = outcome === 'failed' ? 'failed' : outcome.status;
  const text = catalogFor(language).votes[key];
  return outcome !== 'failed' && outcome.status !== 'unknown_answer'
    ? `${text} ${outcome.record.vote === 'up' ? '👍' : '👎'}`
    : text;
}

/**
 * Whether a vote should bring in a human: a new or changed 👎 on an answer that did not already offer one
 * (a "not covered" answer carries the hand-off line itself).
 */
export function shouldHandOff(outcome: VoteOutcome): outcome is Extract<VoteOutcome, { record: VoteRecord }> {
  return (
    (outcome.status === 'recorded' || outcome.status === 'changed') &&
    outcome.record.vote === 'down' &&
    !outcome.record.notCovered
  );
}

/**
 * The one line that invites a human when the bot could not help; `contact` is already in platform form
 * (`@username` on Telegram, a role mention on Discord).
 */
export function describeHandoff(contact: string, language: ReplyLanguage): string {
  return catalogFor(language).answers.handoff(contact);
}

/**
 * An append-only list of strings per UTC day, kept as a store list: entries appended by several instances at
 * once are all kept. Days recorded by versions before lists (one numbered slot per entry, and a count) are
 * still read, until their retention runs out.
 */
function createDayIndex(store: Store, listKey: (day: string) => string, ttlMs: number) {
  const batch = 50;
  const readSlots = async (day: string): Promise<string[]> => {
    const count = await store.get<number>(`${listKey(day)}:count`);
    if (count === undefined) return [];
    const values: string[] = [];
    for (let start = 0; ; start += batch) {
      const keys = Array.from({ length: batch }, (_, i) => `${listKey(day)}:${start + i}`);
      const found = (await store.getMany<string>(keys)).filter((value) => typeof value === 'string');
      values.push(...found);
      if (found.length === 0 && start + batch >= count) return values;
    }
  };
  return {
    add: (day: string, value: string) => store.appendToList(listKey(day), value, ttlMs),
    list: async (day: string) => [...(await readSlots(day)), ...(await store.readList(listKey(day)))],
  };
}

/**
 * Feedback in the shared key-value store, under `feedback:` keys that expire after `retentionMs`. Users are
 * identified by `sha256(salt, voterId)`; the salt is random per install, created on first use and kept in
 * the store without expiry (if two instances create it at the same moment, both re-read it and the last
 * write wins — at worst a vote cast in that instant counts as another user). Store failures throw `StoreError`.
 */
export function createFeedbackStore(options: FeedbackStoreOptions): FeedbackStore {
  const { store, retentionMs } = options;
  const now = options.now ?? Date.now;
  const answers = createDayIndex(store, storeKeys.answersOfDay, retentionMs);
  const votes = createDayIndex(store, storeKeys.votesOfDay, retentionMs);
  const inOrder = createKeyedQueue();
  const answerKey = storeKeys.feedbackAnswer;
  let salt: Promise<string> | undefined;

  const loadSalt = async () => {
    const existing = await store.get<string>(storeKeys.feedbackSalt);
    if (existing) return existing;
    await store.set(storeKeys.feedbackSalt, randomBytes(32).toString('hex'));
    return (await store.get<string>(storeKeys.feedbackSalt)) as string;
  };
  const hashUser = async (voterId: string) => {
    salt ??= withStore('read', loadSalt).catch((error: unknown) => {
      salt = undefined;
      throw error;
    });
    return createHash('sha256')
      .update(await salt)
      .update('\0')
      .update(voterId)
      .digest('hex');
  };
  const loadMany = async <T>(keys: string[]): Promise<T[]> =>
    keys.length === 0
      ? []
      : (await withStore('read', () => store.getMany<T>(keys))).filter((value): value is Awaited<T> =>
          Boolean(value),
        );

  const getAnswer = (answerId: string) =>
    withStore('read', () => store.get<AnswerRecord>(answerKey(answerId)));

  return {
    async recordAnswer(done, context) {
      const record: AnswerRecord = {
        answerId: done.answerId,
        platform: context.platform,
        conversationId: context.conversationId,
        question: context.question,
        passageIds: done.citations.map((citation) => citation.id),
        knowledgeVersion: done.knowledgeVersion,
        mode: done.mode,
        model: done.model ?? null,
        provider: done.mode === 'llm' ? (options.provider ?? null) : null,
        latencyMs: done.latencyMs,
        usage: done.usage ?? null,
        cost: done.cost ?? null,
        askerHash: context.userKey ? await hashUser(context.userKey) : null,
        notCovered: done.notCovered,
        incomplete: done.incomplete,
        cached: done.cached,
        deliveredAt: now(),
      };
      await withStore('write', async () => {
        await store.set(answerKey(record.answerId), record, retentionMs);
        await answers.add(dayOf(record.deliveredAt), record.answerId);
      });
      return record;
    },

    getAnswer,

    async vote({ answerId, voterId, vote, conversationId }) {
      const answer = await getAnswer(answerId);
      if (!answer || (conversationId !== undefined && answer.conversationId !== conversationId)) {
        return { status: 'unknown_answer' };
      }
      const userHash = await hashUser(voterId);
      const key = storeKeys.feedbackVote(answerId, userHash);
      return inOrder(key, () =>
        withStore('write', async (): Promise<VoteOutcome> => {
          const previous = await store.get<VoteRecord>(key);
          if (previous?.vote === vote) return { status: 'unchanged', record: previous };
          const at = now();
          const record: VoteRecord = {
            ...answer,
            userHash,
            vote,
            createdAt: previous?.createdAt ?? at,
            updatedAt: at,
          };
          await store.set(key, record, retentionMs);
          // A changed vote keeps its slot under the day it was first cast.
          if (!previous) await votes.add(dayOf(at), key);
          options.votes?.inc({ platform: answer.platform, vote, change: previous ? 'true' : 'false' });
          return { status: previous ? 'changed' : 'recorded', record };
        }),
      );
    },

    claimHandoff: (answerId) => store.claimOnce(storeKeys.feedbackHandoff(answerId), retentionMs),

    async listAnswers(day) {
      const ids = await withStore('read', () => answers.list(day));
      return loadMany<AnswerRecord>([...new Set(ids)].map(answerKey));
    },

    async listVotes(day) {
      // Two instances recording a user's first vote at the same instant may both index it; count it once.
      const keys = await withStore('read', () => votes.list(day));
      return loadMany<VoteRecord>([...new Set(keys)]);
    },
  };
}
