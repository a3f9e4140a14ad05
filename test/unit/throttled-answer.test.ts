import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AnswerSnapshot,
  consumeThrottled,
  firstPreviewWaitMs,
  isReadable,
  PreviewSkipped,
  readableChars,
} from '../../src/adapters/shared/throttled-answer.ts';
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* timedEvents(
  deltas: string[],
  gapMs: number,
  reasoning: string[] = [],
): AsyncGenerator<AnswerEvent> {
  for (const delta of reasoning) yield { type: 'reasoning', delta };
  for (const delta of deltas) {
    yield { type: 'text', delta };
    await sleep(gapMs);
  }
  yield done;
}

/** One event of a scripted stream, written `afterMs` after the previous one. */
interface Step {
  afterMs: number;
  type: 'text' | 'reasoning';
  delta: string;
}

/** A model writing `text` word by word, one word every `gapMs`. */
function wordByWord(text: string, gapMs: number, type: Step['type'] = 'text'): Step[] {
  return text.split(/(?<= )/).map((delta) => ({ afterMs: gapMs, type, delta }));
}

const answer =
  'DeepSeek was founded in 2023 by Liang Wenfeng, who had made his fortune with the hedge fund High-Flyer [1]. ' +
  'He financed the company himself, so it could work free of outside money [1].';

/** Runs `steps` through `consumeThrottled` on the fake clock; records each update, and when each text length was written. */
async function runScripted(
  steps: Step[],
  intervalMs: number,
  update: (snapshot: AnswerSnapshot, call: number) => Promise<unknown> = async () => undefined,
) {
  const start = Date.now();
  const written: Array<{ at: number; text: string }> = [];
  const updates: Array<{ at: number; snapshot: AnswerSnapshot }> = [];
  async function* events(): AsyncGenerator<AnswerEvent> {
    let text = '';
    for (const step of steps) {
      await sleep(step.afterMs);
      if (step.type === 'text') {
        text += step.delta;
        written.push({ at: Date.now() - start, text });
      }
      yield { type: step.type, delta: step.delta };
    }
    yield done;
  }
  let returnedAt = -1;
  const result = consumeThrottled(events(), {
    intervalMs,
    update: async (snapshot) => {
      updates.push({ at: Date.now() - start, snapshot });
      return (await update(snapshot, updates.length)) === false ? false : undefined;
    },
  }).then((event) => {
    returnedAt = Date.now() - start;
    return event;
  });
  const totalMs = steps.reduce((sum, step) => sum + step.afterMs, 0);
  await vi.advanceTimersByTimeAsync(totalMs + 1);
  expect((await result).done).toBe(done);
  /** When the model had written at least `chars` characters of text. */
  const wroteAt = (chars: number) => written.find((w) => w.text.trim().length >= chars)?.at;
  return { updates, wroteAt, returnedAt, totalMs };
}

describe('a readable chunk', () => {
  it.each([
    ['about fifty characters of any text', 'x'.repeat(readableChars), true],
    ['a sentence ended by a full stop', 'DeepSeek is self-funded. ', true],
    ['a Chinese sentence', '根据知识文件，深度求索公司成立于二〇二三年。', true],
    [
      'a clause ended by a comma, which 50 characters soon follow',
      'According to the knowledge file, ',
      false,
    ],
    ['a number still being written', 'DeepSeek spent about 5.', false],
    ['one word', 'According', false],
    ['a short reply word with a comma', 'Yes, ', false],
    ['a list number', '1. ', false],
    ['a few words without punctuation', 'According to the knowledge file', false],
  ])('%s: %s', (_, text, readable) => {
    expect(isReadable(text)).toBe(readable);
  });
});

describe('the preview cadence', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('on a fast model, shows the first readable chunk the moment it is written, then at most once per interval', async () => {
    const { updates, wroteAt } = await runScripted(wordByWord(answer, 20), 1000);
    const first = updates[0] as { at: number; snapshot: AnswerSnapshot };
    expect(isReadable(first.snapshot.text)).toBe(true);
    const firstReadable = updates.find((u) => u.snapshot.text.trim().length >= readableChars);
    expect(firstReadable?.at).toBe(wroteAt(readableChars));
    // The whole answer takes 0.6 s: the readable chunk (and the burst to 50 characters, if it was shorter) only.
    expect(updates.length).toBeLessThanOrEqual(2);
  });

  it('on a slow model, shows the first words after a short wait, then keeps a steady interval with one early update for the first 50 characters', async () => {
    const intervalMs = 1000;
    const { updates, wroteAt, totalMs } = await runScripted(wordByWord(answer, 400), intervalMs);
    expect(updates[0]?.at).toBe(400 + firstPreviewWaitMs);
    expect(updates[0]?.snapshot.text).toBe('DeepSeek ');
    const firstReadable = updates.findIndex((u) => u.snapshot.text.trim().length >= readableChars);
    expect(updates[firstReadable]?.at).toBe(wroteAt(readableChars));
    const gaps = updates.slice(1).map((u, i) => u.at - (updates[i] as { at: number }).at);
    const early = gaps.filter((gap) => gap < intervalMs);
    expect(early.length).toBeLessThanOrEqual(1);
    if (early.length === 1) expect(gaps.indexOf(early[0] as number)).toBe(firstReadable - 1);
    // Steady: no gap longer than an interval while the model keeps writing (each word changes the text).
    expect(Math.max(...gaps)).toBeLessThanOrEqual(intervalMs);
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(totalMs / intervalMs) + 1);
    for (let i = 1; i < updates.length; i++) {
      expect(updates[i]?.snapshot.text.length).toBeGreaterThan(updates[i - 1]?.snapshot.text.length ?? 0);
    }
  });

  it('shows reasoning once it reads as a sentence, and the answer text again only once it is readable', async () => {
    const steps = [
      ...wordByWord('The user asks who founded DeepSeek. The passage says Liang Wenfeng. ', 30, 'reasoning'),
      ...wordByWord(answer, 30),
    ];
    const { updates } = await runScripted(steps, 200);
    const firstText = updates.find((u) => u.snapshot.text !== '');
    expect(isReadable(updates[0]?.snapshot.reasoning ?? '')).toBe(true);
    expect(updates[0]?.snapshot.text).toBe('');
    expect(isReadable(firstText?.snapshot.text ?? '')).toBe(true);
  });

  it('spends no interval on an update that showed nothing (reasoning not shown)', async () => {
    const steps: Step[] = [
      { afterMs: 10, type: 'reasoning', delta: 'The user asks who founded DeepSeek. ' },
      ...wordByWord('Liang Wenfeng founded it. He also ran High-Flyer [1].', 20),
    ];
    const hidden = async (snapshot: AnswerSnapshot) => (snapshot.text ? undefined : (false as const));
    const { updates, wroteAt } = await runScripted(steps, 1000, hidden);
    expect(updates[0]?.snapshot.text).toBe('');
    // The first sentence shows as soon as it is written, not an interval after the invisible update.
    expect(updates[1]?.snapshot.text).toBe('Liang Wenfeng founded it. ');
    expect(updates[1]?.at).toBe(wroteAt('Liang Wenfeng founded it.'.length));
  });

  it('skips previews while rate-limited and returns the answer without waiting for the retry_after', async () => {
    const retryAfterMs = 30_000;
    const { updates, returnedAt, totalMs } = await runScripted(
      wordByWord(answer, 300),
      1000,
      async (_snapshot, call) => {
        if (call === 2) throw new PreviewSkipped(retryAfterMs);
      },
    );
    const limitedAt = updates[1]?.at as number;
    expect(updates.filter((u) => u.at > limitedAt && u.at < limitedAt + retryAfterMs)).toEqual([]);
    expect(returnedAt).toBeLessThan(limitedAt + retryAfterMs);
    expect(returnedAt).toBe(totalMs);
  });

  it('resumes previews once the retry_after has passed', async () => {
    const { updates } = await runScripted(wordByWord(answer, 300), 1000, async (_snapshot, call) => {
      if (call === 1) throw new PreviewSkipped(2000);
    });
    const limitedAt = updates[0]?.at as number;
    expect(updates[1]?.at).toBeGreaterThanOrEqual(limitedAt + 2000);
    expect(updates.length).toBeGreaterThan(2);
  });
});

describe('throttled answer consumption', () => {
  it('never runs two updates at once when the platform is slow', async () => {
    let running = 0;
    let maxRunning = 0;
    await consumeThrottled(
      timedEvents(
        Array.from({ length: 20 }, () => 'word, '),
        5,
      ),
      {
        intervalMs: 10,
        update: async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await sleep(40);
          running--;
        },
      },
    );
    expect(maxRunning).toBe(1);
  });

  it('stops updating after a failed update but still returns the finished answer', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const result = await consumeThrottled(
      timedEvents(['Liang Wenfeng founded it. ', 'and ', 'financed ', 'it.'], 5),
      {
        intervalMs: 1,
        update: async () => {
          calls++;
          throw new Error('message to edit not found');
        },
        onUpdateError: (error) => errors.push(error),
      },
    );
    expect(result.done.answer).toBe('abc');
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('returns only once no update is in flight, and starts none after the end', async () => {
    const log: string[] = [];
    // Text keeps coming while a slow update runs; the stream ends before it lands.
    const result = await consumeThrottled(timedEvents(['Liang Wenfeng founded it. ', 'b', 'c'], 5), {
      intervalMs: 1,
      update: async (snapshot) => {
        log.push(`start ${snapshot.text}`);
        await sleep(60);
        log.push(`end ${snapshot.text}`);
      },
    });
    log.push(`returned ${result.done.answer}`);
    await sleep(100);
    expect(log).toEqual([
      'start Liang Wenfeng founded it. ',
      'end Liang Wenfeng founded it. ',
      'returned abc',
    ]);
  });

  it('returns all of the reasoning with the final event, also what no preview showed', async () => {
    const result = await consumeThrottled(
      timedEvents(['Liang Wenfeng founded it. '], 1, [
        'The user asks who founded DeepSeek. ',
        'The passage names Liang Wenfeng.',
      ]),
      { intervalMs: 10_000, update: async () => undefined },
    );
    expect(result.reasoning).toBe('The user asks who founded DeepSeek. The passage names Liang Wenfeng.');
    expect(result.done).toBe(done);
  });

  it('rethrows a failed stream only after the update in flight has landed', async () => {
    const log: string[] = [];
    async function* failing(): AsyncGenerator<AnswerEvent> {
      yield { type: 'reasoning', delta: 'The user asks about DeepSeek. ' };
      await sleep(5);
      throw new Error('model returned nothing');
    }
    await expect(
      consumeThrottled(failing(), {
        intervalMs: 1,
        update: async () => {
          log.push('preview sent');
          await sleep(50);
          log.push('preview landed');
        },
      }).finally(() => log.push('caller cleans up')),
    ).rejects.toThrow('model returned nothing');
    expect(log).toEqual(['preview sent', 'preview landed', 'caller cleans up']);
  });
});
