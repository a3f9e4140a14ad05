import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished } from 'vitest';
import type { AnswerDone, AnswerEvent } from '../../src/core/answer-events.ts';
import { type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import { runPoquan } from '../servers/poquan-process.ts';
import { startPoquanOnFakeModel } from './harness.ts';

const miniKnowledge = new URL('../fixtures/knowledge-mini', import.meta.url).pathname;

/** Questions on the mini knowledge, the Chinese one first so it takes the one reply a test enqueues. */
const qaLines = [
  { q: '梁文锋是哪一年创立幻方量化的？', lang: 'zh', expect_any: ['High-Flyer in 2015'] },
  { q: 'Who founded High-Flyer?', lang: 'en', expect_any: ['Liang Wenfeng'] },
  { q: 'What will the weather be like in Paris tomorrow?', lang: 'en', out_of_scope: true },
];

/** What a model answering in Chinese writes: the fact in Chinese, names as the glossary renders them. */
const chineseAnswer = '梁文锋在2015年创立了对冲基金幻方量化[1]。';
const inventedFigure = 'It raised US$8.2bn in 2031 [1].';

/** Runs the real CLI in a fresh directory with only the given settings: no .env, nothing from this machine. */
async function evalAnswers(llm: FakeLlm, args: string[] = ['--json'], lines: object[] = qaLines) {
  const cwd = await mkdtemp(join(tmpdir(), 'poquan-eval-'));
  onTestFinished(() => rm(cwd, { recursive: true, force: true }));
  await writeFile(join(cwd, 'qa.jsonl'), lines.map((line) => JSON.stringify(line)).join('\n'));
  const { code, stdout } = await runPoquan(
    ['eval', '--answers', '--qa', 'qa.jsonl', ...args],
    {
      NO_COLOR: '1',
      KNOWLEDGE_DIR: miniKnowledge,
      STORE_URL: 'memory://',
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-test',
      LLM_MAX_RETRIES: '0',
    },
    cwd,
  );
  return { code, stdout };
}

async function fakeModel(): Promise<FakeLlm> {
  const llm = await startFakeLlm();
  onTestFinished(() => llm.close());
  return llm;
}

// Each test starts the CLI once; on a busy machine a start alone can take longer than the default timeout.
describe('poquan eval --answers', { timeout: 60_000 }, () => {
  it('reports a grounded run as clean: facts found (in Chinese too), citations valid, no figure invented', async () => {
    const llm = await fakeModel();
    llm.enqueue({ content: chineseAnswer });
    const run = await evalAnswers(llm);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      questions: 3,
      factInAnswer: 1,
      citedPassageHasFact: 1,
      ungroundedFigures: 0,
      languageMatch: 1,
      outOfScopeRefused: 1,
    });
    expect(report.items.map((item: { answerLanguage: string }) => item.answerLanguage)).toEqual([
      'zh',
      'en',
      'en',
    ]);
    expect(report.items[0].answer).toBe(chineseAnswer);
    // The out-of-scope question got the fixed reply without a model call.
    expect(llm.requests).toHaveLength(2);
  });

  it('catches the figures a model invents and citations to passages it was never given', async () => {
    const llm = await fakeModel();
    llm.enqueue({ content: '梁文锋在2015年创立了幻方量化[1]，并募集了八十亿美元[7]。' });
    llm.setDefault({ addedClaim: inventedFigure });
    const report = JSON.parse((await evalAnswers(llm)).stdout);
    expect(report.items[0]).toMatchObject({ ungroundedFigures: ['八十亿'], invalidCitations: [7] });
    expect(report.items[1]).toMatchObject({ ungroundedFigures: ['US$8.2bn', '2031'], invalidCitations: [] });
    expect(report.ungroundedFigures).toBe(3);
  });

  it('names the invented figures under their question in the terminal report', async () => {
    const llm = await fakeModel();
    llm.enqueue({ content: chineseAnswer });
    llm.setDefault({ addedClaim: inventedFigure });
    const human = await evalAnswers(llm, []);
    expect(human.stdout).toContain('ungrounded figures: US$8.2bn, 2031');
    expect(human.stdout).toMatch(/ungrounded figures 2 /);
  });

  it('asks a follow-up right after the question it follows, in the same conversation', async () => {
    const llm = await fakeModel();
    const followUp = { after: 'Who founded High-Flyer?', q: 'When did he found it?', expect_any: ['2015'] };
    const report = JSON.parse((await evalAnswers(llm, ['--json'], [followUp])).stdout);
    expect(report.questions).toBe(1);
    expect(llm.requests).toHaveLength(2);
    const asked = JSON.stringify(llm.requests[1]?.body);
    expect(asked).toContain('Who founded High-Flyer?');
    expect(asked).toContain('When did he found it?');
  });
});

describe('the figure check on every answer', () => {
  async function answerOf(events: AsyncIterable<AnswerEvent>): Promise<AnswerDone> {
    for await (const event of events) if (event.type === 'done') return event;
    throw new Error('no done event');
  }

  it('counts invented figures in poquan_ungrounded_figures_total and logs them with the answer id only', async ({
    cleanups,
  }) => {
    const { llm, poquan, logs } = await startPoquanOnFakeModel(cleanups, undefined, {});
    const clean = await answerOf(poquan.answer('Who founded High-Flyer?', 'c1', { platform: 'telegram' }));
    expect(clean.grounding).toEqual({ passageIds: expect.any(Array), ungroundedFigures: [] });

    llm.enqueue({ addedClaim: inventedFigure });
    const invented = await answerOf(poquan.answer('Who founded High-Flyer?', 'c2', { platform: 'telegram' }));
    expect(invented.grounding?.ungroundedFigures).toEqual(['US$8.2bn', '2031']);
    expect(await poquan.metrics.registry.metrics()).toMatch(
      /poquan_ungrounded_figures_total\{platform="telegram",mode="llm"\} 2\n/,
    );
    const line = logs.entries().find((entry) => entry.msg === 'answer states figures no given passage holds');
    expect(line).toMatchObject({ level: 30, answerId: invented.answerId, figures: ['US$8.2bn', '2031'] });
    expect(JSON.stringify(line)).not.toContain('High-Flyer');
  });
});
