import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/core/tokenize.ts';

describe('tokenizer', () => {
  it('lower-cases, drops stop words and stems English', () => {
    expect(tokenize('Who founded the Companies?')).toEqual(['founder', 'compani']);
  });

  it('keeps numbers whole and treats 9,600 and 9600 alike', () => {
    expect(tokenize('over 9,600 firms')).toEqual(tokenize('over 9600 firms'));
    expect(tokenize('US$184 billion in 2000–2023')).toEqual(['us', '184', 'billion', '2000', '2023']);
  });

  it('keeps model names with digits such as R1 and V3', () => {
    expect(tokenize('the R1 and V3 models')).toEqual(['r1', 'v3', 'model']);
  });

  it('keeps initials as one word, so "J.S. Tan" is found by more than a common surname', () => {
    expect(tokenize('J.S. Tan wrote')).toEqual(['js', 'tan', 'wrote']);
    expect(tokenize('U.S. firms')).toEqual(tokenize('US firms'));
  });

  it('gives CJK text segmenter words plus character bigrams, so badly segmented words still match', () => {
    const terms = tokenize('DeepSeek的创始人是谁？');
    expect(terms).toContain('deepseek');
    expect(terms).toContain('创始');
    expect(terms).toContain('始人');
    expect(terms).not.toContain('是谁');
  });

  it('produces the same terms for full-width and half-width forms', () => {
    expect(tokenize('ＤｅｅｐＳｅｅｋ　２０１５')).toEqual(tokenize('DeepSeek 2015'));
  });

  it('returns nothing for punctuation and emoji only', () => {
    expect(tokenize('?!… 🎉🎉 ——')).toEqual([]);
  });
});

describe('tokenizer word overrides', () => {
  it('treats founded, founding and founder as one term, and drops the ambiguous "found"', () => {
    expect(tokenize('founded founding founders founder')).toEqual([
      'founder',
      'founder',
      'founder',
      'founder',
    ]);
    expect(tokenize('a study found that')).toEqual(['studi']);
  });
});
