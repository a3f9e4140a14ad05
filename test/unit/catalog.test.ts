import { describe, expect, it } from 'vitest';
import { catalogFor } from '../../src/core/catalog/catalog.ts';
import type { Catalog } from '../../src/core/catalog/shape.ts';

/** Stands for any argument a sentence takes: a word, a number, a list, or an object of those. */
const sample: unknown = new Proxy(
  {},
  {
    get: (_target, key) => {
      if (key === Symbol.toPrimitive || key === 'toString') return () => '7';
      if (typeof key === 'symbol') return undefined;
      return key === 'recent' || key === 'files' ? ['7'] : '7';
    },
  },
);

/** Every leaf of a catalog as `path: value`, functions called with sample arguments. */
function leaves(node: unknown, path = ''): Array<[string, unknown]> {
  if (typeof node === 'function') {
    return [[path, (node as (...args: unknown[]) => unknown)(sample, sample, sample)]];
  }
  if (node && typeof node === 'object') {
    return Object.entries(node).flatMap(([key, value]) => leaves(value, path ? `${path}.${key}` : key));
  }
  return [[path, node]];
}

describe('the message catalog', () => {
  it('has the same sentences in English and Chinese, none empty', () => {
    const en = leaves(catalogFor('en'));
    const zh = leaves(catalogFor('zh'));
    expect(zh.map(([path]) => path)).toEqual(en.map(([path]) => path));
    for (const [path, value] of [...en, ...zh]) expect(String(value).trim(), path).not.toBe('');
  });

  it('speaks Chinese in Chinese: every Chinese sentence holds Chinese characters', () => {
    const english = new Map(leaves(catalogFor('en')));
    for (const [path, value] of leaves(catalogFor('zh') satisfies Catalog)) {
      const text = String(value);
      // Dates, joins and version lines may be figures alone, and the hint that English works too is in English.
      if (/date|joinSentences|knowledgeVersion|helpOtherLanguage/.test(path)) continue;
      expect(text, path).toMatch(/\p{Script=Han}/u);
      expect(text, path).not.toBe(english.get(path));
    }
  });
});
