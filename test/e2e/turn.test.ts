import { describe, expect } from 'vitest';
import { BudgetExhaustedError, RateLimitedError, StoreError } from '../../src/core/errors.ts';
import type { Turn, TurnDone, TurnEvent } from '../../src/core/turn.ts';
import { it } from '../fixtures/it.ts';
import { foundersQuestion, startPoquanOnFakeModel } from './harness.ts';

/**
 * One user turn is one core call: `poquan.ask` checks the limits before any model call, streams the answer,
 * records it for feedback before its last event and logs it — the same for every platform, so adapters only
 * render what it yields.
 */

const turn = (fields: Partial<Turn> = {}): Turn => ({
  question: foundersQuestion,
  conversationId: 'telegram:42',
  userKey: 'telegram:42',
  platform: 'telegram',
  ...fields,
});

async function collect(events: AsyncIterable<TurnEvent>) {
  const all: TurnEvent[] = [];
  for await (const event of events) all.push(event);
  return { all, done: all.at(-1) as TurnDone };
}

describe('a turn', () => {
  it('streams the answer, then ends with it recorded for feedback and logged as answered', async ({
    cleanups,
  }) => {
    const { poquan, logs } = await startPoquanOnFakeModel(cleanups, undefined, {});
    const events = await poquan.ask(turn());
    let recordedBeforeDone: unknown;
    const all: TurnEvent[] = [];
    for await (const event of events) {
      if (event.type === 'done') recordedBeforeDone = await poquan.feedback.getAnswer(event.answerId);
      all.push(event);
    }
    const done = all.at(-1) as TurnDone;
    expect(all.some((event) => event.type === 'text')).toBe(true);
    expect(done).toMatchObject({ type: 'done', question: foundersQuestion, votable: true });
    expect(recordedBeforeDone).toMatchObject({
      answerId: done.answerId,
      platform: 'telegram',
      conversationId: 'telegram:42',
      question: foundersQuestion,
    });
    expect(logs.entries().filter((entry) => entry.msg === 'answered')).toEqual([
      expect.objectContaining({ conversationId: 'telegram:42', citations: done.citations.length }),
    ]);
  });

  it('is refused by the rate limit before any stream exists or the model is called', async ({ cleanups }) => {
    const { poquan, llm } = await startPoquanOnFakeModel(cleanups, undefined, { RATE_LIMIT_PER_MINUTE: '1' });
    await collect(await poquan.ask(turn()));
    const refused = poquan.ask(turn({ question: 'And who founded DeepSeek?' }));
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: expect.any(Number) });
    expect(llm.requests).toHaveLength(1);
    // The limit is the asker's own: another user in the same chat is still answered.
    const other = await collect(await poquan.ask(turn({ userKey: 'telegram:43' })));
    expect(other.done.votable).toBe(true);
  });

  it('is refused by a used-up daily budget, naming whose budget and when it resets', async ({ cleanups }) => {
    const { poquan, llm } = await startPoquanOnFakeModel(cleanups, undefined, {
      BUDGET_USER_DAILY_TOKENS: '10',
    });
    await collect(await poquan.ask(turn()));
    const refused = poquan.ask(turn());
    await expect(refused).rejects.toBeInstanceOf(BudgetExhaustedError);
    await expect(refused).rejects.toMatchObject({ scope: 'user', resetsAt: expect.any(Number) });
    expect(llm.requests).toHaveLength(1);
  });

  it('asked again under its id (a process stopped mid-answer), is answered at the rate limit and takes no second place', async ({
    cleanups,
  }) => {
    const { poquan, llm } = await startPoquanOnFakeModel(cleanups, undefined, { RATE_LIMIT_PER_MINUTE: '2' });
    // Update 100 is admitted, then its process dies before the answer is delivered.
    await poquan.ask(turn({ id: 'telegram:7:100' }));
    await collect(await poquan.ask(turn({ id: 'telegram:7:101', question: 'Who founded DeepSeek?' })));
    const replayed = await collect(await poquan.ask(turn({ id: 'telegram:7:100' })));
    expect(replayed.done.answer).toMatch(/\[1\]/);
    await expect(poquan.ask(turn({ id: 'telegram:7:102' }))).rejects.toBeInstanceOf(RateLimitedError);
    expect(llm.requests).toHaveLength(2);
  });

  it("answered again under its id, counts one answer and both model calls' tokens", async ({ cleanups }) => {
    const { poquan } = await startPoquanOnFakeModel(cleanups, undefined, {});
    const answers = [
      await collect(await poquan.ask(turn({ id: 'telegram:7:100' }))),
      await collect(await poquan.ask(turn({ id: 'telegram:7:100' }))),
    ];
    const tokens = answers.map(
      ({ done }) => (done.usage?.promptTokens ?? 0) + (done.usage?.completionTokens ?? 0),
    );
    expect(tokens.every((spent) => spent > 0)).toBe(true);
    expect(await poquan.budgets.read('telegram:42')).toMatchObject({
      answers: 1,
      tokens: (tokens[0] ?? 0) + (tokens[1] ?? 0),
    });
  });

  it('asked again under its id, is still refused by a daily budget used up meanwhile', async ({
    cleanups,
  }) => {
    const { poquan, llm } = await startPoquanOnFakeModel(cleanups, undefined, {
      BUDGET_USER_DAILY_TOKENS: '10',
    });
    await poquan.ask(turn({ id: 'telegram:7:100' }));
    await collect(await poquan.ask(turn({ id: 'telegram:7:101' })));
    await expect(poquan.ask(turn({ id: 'telegram:7:100' }))).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(llm.requests).toHaveLength(1);
  });

  it('still delivers the answer when it cannot be recorded, without the means to vote on it', async ({
    cleanups,
  }) => {
    const { poquan, logs } = await startPoquanOnFakeModel(cleanups, undefined, {});
    poquan.feedback.recordAnswer = async () => {
      throw new StoreError('store unreachable');
    };
    const { done } = await collect(await poquan.ask(turn()));
    expect(done.answer).toContain('[1]');
    expect(done.votable).toBe(false);
    expect(logs.entries().map((entry) => entry.msg)).toContain(
      'could not record the answer; no vote buttons',
    );
  });
});
