import { describe, expect, it } from 'vitest';
import { loadBenchInputs } from '../../bench/inputs.ts';
import { renderMarkdown, renderText, type Table } from '../../bench/report.ts';
import { median, percentile, summarize } from '../../bench/stats.ts';
import { createRandom, generateCorpus } from '../../bench/synthetic-corpus.ts';

const { knowledge } = await loadBenchInputs();

describe('bench statistics', () => {
  it('takes nearest-rank percentiles, never a value between samples', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes unsorted samples', () => {
    expect(summarize([3, 1, 2, 10])).toEqual({ n: 4, min: 1, p50: 2, p90: 10, p99: 10, max: 10, mean: 4 });
    expect(median([5, 1, 3])).toBe(3);
  });
});

describe('generated corpora', () => {
  it('are the same for the same seed and size, and differ for another seed', () => {
    const first = generateCorpus(knowledge, 200);
    expect(generateCorpus(knowledge, 200)).toEqual(first);
    expect(generateCorpus(knowledge, 200, 7).passages[0]?.text).not.toBe(first.passages[0]?.text);
    expect(createRandom(1)()).toBe(createRandom(1)());
  });

  it('mix English and Chinese passages with unique ids, the real glossary and real passage lengths', () => {
    const corpus = generateCorpus(knowledge, 1000);
    const chinese = corpus.passages.filter((passage) => /\p{Script=Han}{4}/u.test(passage.text));
    expect(corpus.passages).toHaveLength(1000);
    expect(new Set(corpus.passages.map((passage) => passage.id)).size).toBe(1000);
    expect(chinese.length).toBeGreaterThan(200);
    expect(chinese.length).toBeLessThan(600);
    expect(corpus.glossary).toBe(knowledge.glossary);
    const longest = Math.max(...knowledge.passages.map((passage) => passage.text.length));
    for (const passage of corpus.passages) expect(passage.text.length).toBeLessThan(longest + 100);
  });
});

describe('bench tables', () => {
  const table: Table = { title: 'T', columns: ['a', 'b|c'], rows: [['深度', '1']], notes: ['n'] };

  it('align CJK text by display width in the terminal', () => {
    expect(renderText(table).split('\n')).toEqual(['T', '  a     b|c', '  ----  ---', '  深度  1', '  * n']);
  });

  it('escape pipes in Markdown cells', () => {
    expect(renderMarkdown(table)).toBe('**T**\n\n| a | b\\|c |\n| --- | --- |\n| 深度 | 1 |\n\n- n');
  });
});
