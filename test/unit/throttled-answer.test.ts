import { describe, expect, it } from 'vitest';
import { type AnswerSnapshot, consumeThrottled } from '../../src/adapters/shared/throttled-answer.ts';
import type { AnswerDone, AnswerEvent } from '../../src/core/answer-events.ts';

const done: AnswerDone = {
  type: 'done',
  answerId: 'a1',
  latencyMs: 0,
  answer: 'abc',
  citations: [],
  mode: 'llm',
  model: 'm',
  usage: undefined,
  knowledgeVersion: 'v',
  notCovered: false,
  incomplete: false,
  cached: false,
};

async function* timedEvents(deltas: string[], gapMs: number): AsyncGenerator<AnswerEvent> {
  for (const delta of deltas) {
    yield { type: 'text', delta };
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  yield done;
}

describe('throttled answer consumption', () => {
  it('shows the first text at once, then at most one update per interval, in order', async () => {
    const updates: Array<{ at: number; snapshot: AnswerSnapshot }> = [];
    const start = Date.now();
    const result = await consumeThrottled(
      timedEvents(
        Array.from({ length: 30 }, () => 'x'),
        10,
      ),
      {
        intervalMs: 100,
        update: async (snapshot) => {
          updates.push({ at: Date.now() - start, snapshot });
        },
      },
    );
    expect(result).toBe(done);
    expect(updates[0]?.snapshot.text).toBe('x');
    expect(updates.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < updates.length; i++) {
      expect((updates[i]?.at ?? 0) - (updates[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(95);
      expect(updates[i]?.snapshot.text.length).toBeGreaterThan(updates[i - 1]?.snapshot.text.length ?? 0);
    }
  });

  it('never runs two updates at once when the platform is slow', async () => {
    let running = 0;
    let maxRunning = 0;
    await consumeThrottled(
      timedEvents(
        Array.from({ length: 20 }, () => 'y'),
        5,
      ),
      {
        intervalMs: 10,
        update: async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((resolve) => setTimeout(resolve, 40));
          running--;
        },
      },
    );
    expect(maxRunning).toBe(1);
  });

  it('stops updating after a failed update but still returns the finished answer', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const result = await consumeThrottled(timedEvents(['a', 'b', 'c'], 5), {
      intervalMs: 1,
      update: async () => {
        calls++;
        throw new Error('message to edit not found');
      },
      onUpdateError: (error) => errors.push(error),
    });
    expect(result.answer).toBe('abc');
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('returns only once no update is in flight, and starts none after the end', async () => {
    const log: string[] = [];
    // Text keeps coming while a slow update runs; the stream ends before it lands.
    const result = await consumeThrottled(timedEvents(['a', 'b', 'c'], 5), {
      intervalMs: 1,
      update: async (snapshot) => {
        log.push(`start ${snapshot.text}`);
        await new Promise((resolve) => setTimeout(resolve, 60));
        log.push(`end ${snapshot.text}`);
      },
    });
    log.push(`returned ${result.answer}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log).toEqual(['start a', 'end a', 'returned abc']);
  });

  it('rethrows a failed stream only after the update in flight has landed', async () => {
    const log: string[] = [];
    async function* failing(): AsyncGenerator<AnswerEvent> {
      yield { type: 'reasoning', delta: 'thinking' };
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('model returned nothing');
    }
    await expect(
      consumeThrottled(failing(), {
        intervalMs: 1,
        update: async () => {
          log.push('preview sent');
          await new Promise((resolve) => setTimeout(resolve, 50));
          log.push('preview landed');
        },
      }).finally(() => log.push('caller cleans up')),
    ).rejects.toThrow('model returned nothing');
    expect(log).toEqual(['preview sent', 'preview landed', 'caller cleans up']);
  });
});
