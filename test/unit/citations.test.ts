import { describe, expect, it } from 'vitest';
import { citedNumbers, collectCitations } from '../../src/core/citations.ts';
import type { ScoredPassage } from '../../src/core/retriever.ts';

const passages: ScoredPassage[] = ['a', 'b', 'c'].map((name) => ({
  passage: {
    id: `k#${name}-1`,
    source: 'k.md',
    heading: name.toUpperCase(),
    headingPath: [name],
    text: name,
  },
  score: 1,
}));

describe('citations', () => {
  it('reads [n], [n][m], [n, m] and full-width 【n】 markers in order of first mention', () => {
    expect(citedNumbers('A [2]. B [1][3]. C [2, 3]. D 【1】')).toEqual([2, 1, 3]);
  });

  it('lists only the cited passages, in number order, ignoring numbers with no passage', () => {
    expect(collectCitations('X [3] and [1] and [7]', passages)).toEqual([
      { n: 1, id: 'k#a-1', source: 'k.md', heading: 'A' },
      { n: 3, id: 'k#c-1', source: 'k.md', heading: 'C' },
    ]);
  });

  it('falls back to every passage given when the model cited none, so no answer goes out without sources', () => {
    expect(collectCitations('No markers here.', passages).map((c) => c.n)).toEqual([1, 2, 3]);
    expect(collectCitations('No markers here.', [])).toEqual([]);
  });
});
