import { afterEach, describe, expect, it } from 'vitest';
import type { AnswerDone } from '../../src/core/answer-events.ts';
import { createFeedbackStore, dayOf, describeVoteOutcome, shouldHandOff } from '../../src/core/feedback.ts';
import { createMetrics } from '../../src/metrics/prometheus-metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { OpenedStore } from '../../src/store/opened-store.ts';

const opened: OpenedStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

const day = 86_400_000;
const march1 = Date.parse('2026-03-01T09:00:00Z');

async function feedbackOn(clock: { now: number }, provider = 'deepseek') {
  const store = await openStore('memory://');
  opened.push(store);
  const metrics = createMetrics();
  const feedback = createFeedbackStore({
    store,
    retentionMs: 30 * day,
    provider,
    now: () => clock.now,
    votes: metrics.votes,
  });
  return { store, feedback, metrics };
}

function done(overrides: Partial<AnswerDone> = {}): AnswerDone {
  return {
    type: 'done',
    answerId: 'ans1',
    answer: 'Liang Wenfeng founded DeepSeek [1].',
    citations: [{ n: 1, id: 'mini#founder', source: 'mini.md', heading: "DeepSeek's founder" }],
    mode: 'llm',
    model: 'deepseek-flash',
    usage: { promptTokens: 120, completionTokens: 30 },
    knowledgeVersion: 'kv-1',
    notCovered: false,
    incomplete: false,
    cached: false,
    latencyMs: 850,
    ...overrides,
  };
}

const asked = {
  platform: 'telegram',
  conversationId: 'telegram:-1001',
  question: 'Who founded DeepSeek?',
  userKey: 'telegram:987654321',
};

describe('feedback store', () => {
  it('keeps a delivered answer with its provenance and cost, listed under its UTC day', async () => {
    const clock = { now: march1 };
    const { feedback } = await feedbackOn(clock);
    const record = await feedback.recordAnswer(done({ cost: { amount: 0.000072, currency: 'USD' } }), asked);
    expect(record).toEqual({
      answerId: 'ans1',
      platform: 'telegram',
      conversationId: 'telegram:-1001',
      question: 'Who founded DeepSeek?',
      passageIds: ['mini#founder'],
      knowledgeVersion: 'kv-1',
      mode: 'llm',
      model: 'deepseek-flash',
      provider: 'deepseek',
      latencyMs: 850,
      usage: { promptTokens: 120, completionTokens: 30 },
      cost: { amount: 0.000072, currency: 'USD' },
      askerHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      notCovered: false,
      incomplete: false,
      cached: false,
      deliveredAt: march1,
    });
    expect(JSON.stringify(record)).not.toContain('987654321');
    expect(await feedback.getAnswer('ans1')).toEqual(record);
    expect(await feedback.listAnswers('2026-03-01')).toEqual([record]);
    expect(await feedback.listAnswers('2026-03-02')).toEqual([]);
  });

  it('records a vote with every field, under a salted hash of the user id, never the id itself', async () => {
    const clock = { now: march1 };
    const { store, feedback } = await feedbackOn(clock);
    await feedback.recordAnswer(done(), asked);
    clock.now += 60_000;
    const outcome = await feedback.vote({ answerId: 'ans1', voterId: 'telegram:987654321', vote: 'up' });
    expect(outcome.status).toBe('recorded');
    const vote = (await feedback.listVotes('2026-03-01'))[0];
    expect(vote).toMatchObject({
      answerId: 'ans1',
      platform: 'telegram',
      conversationId: 'telegram:-1001',
      question: 'Who founded DeepSeek?',
      passageIds: ['mini#founder'],
      knowledgeVersion: 'kv-1',
      model: 'deepseek-flash',
      provider: 'deepseek',
      latencyMs: 850,
      usage: { promptTokens: 120, completionTokens: 30 },
      vote: 'up',
      createdAt: march1 + 60_000,
      updatedAt: march1 + 60_000,
    });
    expect(vote?.userHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(vote)).not.toContain('987654321');
    const salt = await store.get<string>('feedback:salt');
    expect(salt).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps one record per answer and user: voting again changes it, the same vote changes nothing', async () => {
    const clock = { now: march1 };
    const { feedback } = await feedbackOn(clock);
    await feedback.recordAnswer(done(), asked);
    await feedback.vote({ answerId: 'ans1', voterId: 'telegram:42', vote: 'up' });
    clock.now += day;
    const changed = await feedback.vote({ answerId: 'ans1', voterId: 'telegram:42', vote: 'down' });
    const again = await feedback.vote({ answerId: 'ans1', voterId: 'telegram:42', vote: 'down' });
    await feedback.vote({ answerId: 'ans1', voterId: 'telegram:43', vote: 'up' });
    expect(changed).toMatchObject({ status: 'changed', record: { vote: 'down', createdAt: march1 } });
    expect(again.status).toBe('unchanged');
    // A changed vote stays under the day it was first cast; the other user's vote is on the next day.
    const first = await feedback.listVotes('2026-03-01');
    const second = await feedback.listVotes('2026-03-02');
    expect(first.map((v) => v.vote)).toEqual(['down']);
    expect(second.map((v) => v.vote)).toEqual(['up']);
    expect(first[0]?.userHash).not.toBe(second[0]?.userHash);
  });

  it('counts new and changed votes in poquan_feedback_votes_total, and a repeated one not at all', async () => {
    const clock = { now: march1 };
    const { feedback, metrics } = await feedbackOn(clock);
    await feedback.recordAnswer(done(), asked);
    await feedback.vote({ answerId: 'ans1', voterId: 'telegram:42', vote: 'up' });
    await feedback.vote({ answerId: 'ans1', voterId: 'telegram:42', vote: 'down' });
    await feedback.vote({ answerId: 'ans1', voterId: 'telegram:42', vote: 'down' });
    await feedback.vote({ answerId: 'ans1', voterId: 'telegram:43', vote: 'down' });
    await feedback.vote({ answerId: 'unknown', voterId: 'telegram:44', vote: 'up' });
    const counted = (await metrics.votes.get()).values.map((v) => [v.labels, v.value]);
    expect(counted).toEqual([
      [{ platform: 'telegram', vote: 'up', change: 'false' }, 1],
      [{ platform: 'telegram', vote: 'down', change: 'true' }, 1],
      [{ platform: 'telegram', vote: 'down', change: 'false' }, 1],
    ]);
  });

  it('applies two quick clicks by one user in order', async () => {
    const { feedback } = await feedbackOn({ now: march1 });
    await feedback.recordAnswer(done(), asked);
    await Promise.all([
      feedback.vote({ answerId: 'ans1', voterId: 'discord:7', vote: 'up' }),
      feedback.vote({ answerId: 'ans1', voterId: 'discord:7', vote: 'down' }),
    ]);
    const votes = await feedback.listVotes('2026-03-01');
    expect(votes.map((v) => v.vote)).toEqual(['down']);
  });

  it('says so for a vote on an answer it does not know (expired or never recorded)', async () => {
    const { feedback } = await feedbackOn({ now: march1 });
    const outcome = await feedback.vote({ answerId: 'gone', voterId: 'telegram:42', vote: 'up' });
    expect(outcome).toEqual({ status: 'unknown_answer' });
    expect(describeVoteOutcome(outcome, 'en')).toBe('This answer is too old to rate.');
    expect(await feedback.listVotes('2026-03-01')).toEqual([]);
  });

  it('indexes every one of many answers recorded at once, with nothing lost or doubled', async () => {
    const { feedback } = await feedbackOn({ now: march1 });
    const ids = Array.from({ length: 120 }, (_, i) => `a${i}`);
    await Promise.all(ids.map((answerId) => feedback.recordAnswer(done({ answerId }), asked)));
    const listed = (await feedback.listAnswers('2026-03-01')).map((a) => a.answerId);
    expect(listed.sort()).toEqual([...ids].sort());
  });

  it('indexes correctly when two instances share the store', async () => {
    const clock = { now: march1 };
    const { store } = await feedbackOn(clock);
    const make = () => createFeedbackStore({ store, retentionMs: day, now: () => clock.now });
    const [one, two] = [make(), make()];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? one : two).recordAnswer(done({ answerId: `b${i}` }), asked),
      ),
    );
    expect(await one.listAnswers('2026-03-01')).toHaveLength(40);
  });

  it('still lists the answers of a day recorded before day lists (one numbered slot each, and a count)', async () => {
    const clock = { now: march1 };
    const { store, feedback } = await feedbackOn(clock);
    const earlier = await feedback.recordAnswer(done({ answerId: 'old1' }), asked);
    // What the earlier version left: the record, slot 0 and the count; no day list.
    await store.delete('feedback:answers-by-day:2026-03-01');
    await store.set('feedback:answers-by-day:2026-03-01:0', earlier.answerId, day);
    await store.set('feedback:answers-by-day:2026-03-01:count', 1, day);
    await feedback.recordAnswer(done({ answerId: 'new1' }), asked);
    const listed = (await feedback.listAnswers('2026-03-01')).map((a) => a.answerId);
    expect(listed).toEqual(['old1', 'new1']);
  });

  it('offers the 👎 hand-off once per answer, and only for a new or changed 👎 on a covered answer', async () => {
    const { feedback } = await feedbackOn({ now: march1 });
    await feedback.recordAnswer(done(), asked);
    await feedback.recordAnswer(done({ answerId: 'gap', notCovered: true, citations: [] }), asked);
    const down = await feedback.vote({ answerId: 'ans1', voterId: 'telegram:1', vote: 'down' });
    const same = await feedback.vote({ answerId: 'ans1', voterId: 'telegram:1', vote: 'down' });
    const gap = await feedback.vote({ answerId: 'gap', voterId: 'telegram:1', vote: 'down' });
    const up = await feedback.vote({ answerId: 'ans1', voterId: 'telegram:2', vote: 'up' });
    expect([down, same, gap, up].map(shouldHandOff)).toEqual([true, false, false, false]);
    expect(await feedback.claimHandoff('ans1')).toBe(true);
    expect(await feedback.claimHandoff('ans1')).toBe(false);
  });

  it('stores no provider for offline answers', async () => {
    const { feedback } = await feedbackOn({ now: march1 });
    const record = await feedback.recordAnswer(
      done({ mode: 'offline', model: undefined, usage: undefined }),
      asked,
    );
    expect(record).toMatchObject({ mode: 'offline', model: null, provider: null, usage: null });
  });
});

describe('feedback days', () => {
  it('day keys are UTC', () => {
    expect(dayOf(Date.parse('2026-03-01T23:30:00-05:00'))).toBe('2026-03-02');
  });
});
