import { cp, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { generateCorpus } from '../../bench/synthetic-corpus.ts';
import { createPoquan, type Poquan } from '../../src/composition-root.ts';
import type { AnswerDone } from '../../src/core/answer-events.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { it } from '../fixtures/it.ts';
import type { Cleanups } from './harness.ts';

async function poquanOnCopy(cleanups: Cleanups): Promise<{
  poquan: Poquan;
  dir: string;
  logs: Array<Record<string, unknown>>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-reload-'));
  await cp('test/fixtures/knowledge-mini', dir, { recursive: true });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line)) });
  const poquan = await createPoquan(loadConfig({ KNOWLEDGE_DIR: dir, STORE_URL: 'memory://' }), logger);
  cleanups.push(async () => {
    await poquan.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { poquan, dir, logs };
}

describe('knowledge hot reload', () => {
  it('rebuilds the index when a file changes, with a new knowledge version', async ({ cleanups }) => {
    const { poquan, dir } = await poquanOnCopy(cleanups);
    poquan.watchKnowledge();
    const before = poquan.knowledge().version;
    expect(poquan.retriever().retrievePassages('Zhejiang robotics quota', 4)).toEqual([]);
    await writeFile(
      join(dir, 'extra.md'),
      '## Robotics\n\nZhejiang set a robotics quota for humanoid robotics start-ups, the Zhejiang robotics quota.\n',
    );
    await expect
      .poll(() => poquan.retriever().retrievePassages('Zhejiang robotics quota', 4).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    expect(poquan.knowledge().version).not.toBe(before);
    expect(poquan.retriever().knowledgeVersion).toBe(poquan.knowledge().version);
  });

  it('keeps the old index and logs why when a changed file is broken', async ({ cleanups }) => {
    const { poquan, dir, logs } = await poquanOnCopy(cleanups);
    poquan.watchKnowledge();
    const before = poquan.knowledge().version;
    await writeFile(join(dir, 'broken.md'), '---\ntitle: [unclosed\n---\n\n## A\n\nText.');
    await expect
      .poll(() => logs.some((line) => line.msg === 'knowledge reload failed; keeping the current version'), {
        timeout: 15_000,
      })
      .toBe(true);
    expect(poquan.knowledge().version).toBe(before);
    expect(poquan.retriever().retrievePassages('Liang Wenfeng High-Flyer', 4).length).toBeGreaterThan(0);
    const failure = logs.find((line) => line.msg === 'knowledge reload failed; keeping the current version');
    expect(JSON.stringify(failure)).toContain('broken.md');
  });

  it('refuses a file that is not text and keeps answering from the current version', async ({ cleanups }) => {
    const { poquan, dir, logs } = await poquanOnCopy(cleanups);
    poquan.watchKnowledge();
    const before = poquan.knowledge().version;
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    await writeFile(join(dir, 'junk.md'), junk);
    await expect
      .poll(() => logs.find((line) => line.msg === 'knowledge reload failed; keeping the current version'), {
        timeout: 15_000,
      })
      .toBeDefined();
    const failure = logs.find((line) => line.msg === 'knowledge reload failed; keeping the current version');
    expect(JSON.stringify(failure)).toMatch(/junk\.md.*(UTF-8|control character)/);
    expect(poquan.knowledge().version).toBe(before);
    expect(poquan.retriever().retrievePassages('Liang Wenfeng High-Flyer', 4).length).toBeGreaterThan(0);
  });

  it('waits for a slow rewrite to finish before it goes live', async ({ cleanups }) => {
    const { poquan, dir, logs } = await poquanOnCopy(cleanups);
    poquan.watchKnowledge();
    const whole =
      '## Robotics\n\nZhejiang set a robotics quota for humanoid start-ups, the Zhejiang robotics quota.\n';
    const handle = await open(join(dir, 'extra.md'), 'w');
    // Written in pieces 400 ms apart (longer than the debounce), as a slow copy over a network share would.
    for (const piece of whole.match(/.{1,30}/gs) ?? []) {
      await handle.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    await handle.close();
    await expect
      .poll(() => poquan.retriever().retrievePassages('Zhejiang robotics quota', 4).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    const reloads = logs.filter((line) => line.msg === 'knowledge reloaded');
    expect(reloads).toHaveLength(1);
  });

  it('goes on watching after the folder is deleted and created again', async ({ cleanups }) => {
    const { poquan, dir } = await poquanOnCopy(cleanups);
    poquan.watchKnowledge();
    await rm(dir, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cp('test/fixtures/knowledge-mini', dir, { recursive: true });
    await writeFile(
      join(dir, 'extra.md'),
      '## Robotics\n\nThe Zhejiang robotics quota for humanoid start-ups.\n',
    );
    await expect
      .poll(() => poquan.retriever().retrievePassages('Zhejiang robotics quota', 4).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
  });

  it('keeps an answer on the version it started with while knowledge is swapped', async ({ cleanups }) => {
    const { poquan, dir } = await poquanOnCopy(cleanups);
    const stream = poquan.answer('Who founded High-Flyer?', 'c1');
    const first = await stream.next();
    await writeFile(join(dir, 'extra.md'), '## More\n\nAnother fact about High-Flyer.\n');
    const { changed, version } = await poquan.reloadKnowledge();
    expect(changed).toBe(true);
    const events = [first.value];
    for await (const event of stream) events.push(event);
    const done = events.at(-1);
    expect(done?.type === 'done' && done.knowledgeVersion).not.toBe(version);
  });

  // Generous timeout: the build is seconds of work, many times slower on a machine busy with other work.
  it('answers every question from the current version while a large reload builds, then from the new one', {
    timeout: 60_000,
  }, async ({ cleanups }) => {
    const { poquan, dir } = await poquanOnCopy(cleanups);
    const before = poquan.knowledge().version;
    // Thousands of passages: an index that takes long enough to build for many questions to arrive meanwhile.
    const corpus = generateCorpus(poquan.knowledge(), 1500);
    const sections = corpus.passages.map((passage) => `## ${passage.heading}\n\n${passage.text}\n`);
    await writeFile(join(dir, 'large.md'), sections.join('\n'));
    const answerOnce = async (question: string, chat: string): Promise<AnswerDone> => {
      let done: AnswerDone | undefined;
      for await (const event of poquan.answer(question, chat)) if (event.type === 'done') done = event;
      return done as AnswerDone;
    };

    let reloading = true;
    const reload = poquan.reloadKnowledge().finally(() => {
      reloading = false;
    });
    const duringReload: AnswerDone[] = [];
    for (let asked = 0; reloading; asked++) {
      const done = await answerOnce(`Who founded High-Flyer, and when? (${asked})`, `chat-${asked}`);
      if (reloading) duringReload.push(done);
      // A new question arrives as a new event, as it would from a platform.
      await nextTurn();
    }

    // A build on the answering thread leaves only the questions asked while files were read (13 here).
    expect(duringReload.length).toBeGreaterThan(100);
    for (const done of duringReload) {
      expect(done.knowledgeVersion).toBe(before);
      expect(done.notCovered).toBe(false);
      expect(done.answer).toContain('Liang Wenfeng');
    }
    const { changed, version } = await reload;
    expect(changed).toBe(true);
    expect(poquan.knowledge().passages.length).toBeGreaterThan(corpus.passages.length);
    const after = await answerOnce('Who founded High-Flyer?', 'after');
    expect(after.knowledgeVersion).toBe(version);
    expect(after.answer).toContain('Liang Wenfeng');
  });
});
