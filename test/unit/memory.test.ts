import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.ts';
import { createConversationMemory, type Turn } from '../../src/core/memory.ts';
import { createRateLimiter } from '../../src/core/rate-limit.ts';
import { openStore } from '../../src/store/open-store.ts';
import { failingStore } from '../fixtures/failing-store.ts';

function turn(question: string): Turn {
  return { question, answer: `answer to ${question}`, citations: [], knowledgeVersion: 'v', at: 0 };
}

describe('conversation memory', () => {
  it('keeps the last N turns per conversation and forgets on reset', async () => {
    const memory = createConversationMemory(await openStore('memory://'), { turns: 2, ttlMs: 60_000 });
    for (const q of ['one', 'two', 'three']) await memory.append('chat:1', turn(q));
    await memory.append('chat:2', turn('other'));
    expect((await memory.load('chat:1')).map((t) => t.question)).toEqual(['two', 'three']);
    await memory.reset('chat:1');
    expect(await memory.load('chat:1')).toEqual([]);
    expect(await memory.load('chat:2')).toHaveLength(1);
  });

  it('survives a restart when the store is a SQLite file', async () => {
    const path = `sqlite:///tmp/poquan-memory-${process.pid}-${Date.now()}.sqlite`;
    const first = await openStore(path);
    await createConversationMemory(first, { turns: 5, ttlMs: 60_000 }).append('chat:9', turn('kept'));
    await first.close();
    const second = await openStore(path);
    const turns = await createConversationMemory(second, { turns: 5, ttlMs: 60_000 }).load('chat:9');
    expect(turns[0]?.question).toBe('kept');
    await second.close();
  });

  it('reports a failing store as a StoreError', async () => {
    const broken = failingStore('disk I/O error');
    const memory = createConversationMemory(broken, { turns: 2, ttlMs: 1000 });
    await expect(memory.load('x')).rejects.toThrow(StoreError);
  });
});

describe('rate limiter', () => {
  it('allows N questions a minute per user and says when the next one is accepted', async () => {
    let now = 1_000_000;
    const limiter = createRateLimiter(await openStore('memory://'), 2, () => now);
    expect(await limiter.take('telegram:1')).toEqual({ allowed: true });
    now += 10_000;
    expect(await limiter.take('telegram:1')).toEqual({ allowed: true });
    expect(await limiter.take('telegram:1')).toEqual({
      allowed: false,
      retryAfterSeconds: 50,
      firstRefusal: true,
    });
    expect(await limiter.take('telegram:2')).toEqual({ allowed: true });
    now += 50_001;
    expect(await limiter.take('telegram:1')).toEqual({ allowed: true });
  });

  it('marks only the first refusal until the user may ask again, then the first of the next stretch', async () => {
    let now = 1_000_000;
    const limiter = createRateLimiter(await openStore('memory://'), 1, () => now);
    const firstRefusals = async () => {
      const decisions = await Promise.all(Array.from({ length: 4 }, () => limiter.take('telegram:1')));
      return decisions.map((decision) => !decision.allowed && decision.firstRefusal);
    };
    expect(await limiter.take('telegram:1')).toEqual({ allowed: true });
    now += 1_000;
    expect((await firstRefusals()).filter(Boolean)).toHaveLength(1);
    now += 30_000;
    expect(await firstRefusals()).toEqual([false, false, false, false]);
    now += 29_001;
    expect(await limiter.take('telegram:1')).toEqual({ allowed: true });
    expect((await firstRefusals()).filter(Boolean)).toHaveLength(1);
  });

  it('counts concurrent questions exactly once each', async () => {
    const limiter = createRateLimiter(await openStore('memory://'), 5);
    const decisions = await Promise.all(Array.from({ length: 12 }, () => limiter.take('burst')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
  });

  for (const store of ['memory', 'SQLite']) {
    const open = () =>
      openStore(
        store === 'memory' ? 'memory://' : `sqlite:///tmp/poquan-rate-${process.pid}-${Date.now()}.sqlite`,
      );

    it(`counts a turn once: taken again under its id, it is allowed at the limit and takes no place (${store})`, async () => {
      let now = 1_000_000;
      const limiter = createRateLimiter(await open(), 2, () => now);
      expect(await limiter.take('telegram:1', 'telegram:7:100')).toEqual({ allowed: true });
      now += 1_000;
      expect(await limiter.take('telegram:1', 'telegram:7:101')).toEqual({ allowed: true });
      // Update 100 handled again after a restart: the user is at the limit, and it is still their question.
      expect(await limiter.take('telegram:1', 'telegram:7:100')).toEqual({ allowed: true });
      expect(await limiter.take('telegram:1', 'telegram:7:101')).toEqual({ allowed: true });
      expect(await limiter.take('telegram:1', 'telegram:7:102')).toMatchObject({ allowed: false });
      now += 59_001;
      // Only update 100 has left the window: one place, not more, is free again.
      expect(await limiter.take('telegram:1', 'telegram:7:103')).toEqual({ allowed: true });
      expect(await limiter.take('telegram:1', 'telegram:7:104')).toMatchObject({ allowed: false });
    });

    it(`does not count a refused turn: taken again, it is a question like any other (${store})`, async () => {
      let now = 1_000_000;
      const limiter = createRateLimiter(await open(), 1, () => now);
      expect(await limiter.take('telegram:1', 'telegram:7:100')).toEqual({ allowed: true });
      expect(await limiter.take('telegram:1', 'telegram:7:101')).toMatchObject({ allowed: false });
      expect(await limiter.take('telegram:1', 'telegram:7:101')).toMatchObject({ allowed: false });
      now += 60_001;
      expect(await limiter.take('telegram:1', 'telegram:7:101')).toEqual({ allowed: true });
      // It took the place it was given: the next question waits.
      expect(await limiter.take('telegram:1', 'telegram:7:102')).toMatchObject({ allowed: false });
    });
  }

  it('is off when the limit is 0', async () => {
    const limiter = createRateLimiter(await openStore('memory://'), 0);
    for (let i = 0; i < 20; i++) expect((await limiter.take('u')).allowed).toBe(true);
  });
});
