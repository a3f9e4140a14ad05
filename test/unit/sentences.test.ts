import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitSentences } from '../../src/core/sentences.ts';

describe('sentence splitter', () => {
  it('splits at sentence ends but not at initials, titles or decimals', () => {
    expect(splitSentences('Mr. J.S. Tan wrote on Substack. Qwen 2.5 came first! Did it? Yes.')).toEqual([
      'Mr. J.S. Tan wrote on Substack. ',
      'Qwen 2.5 came first! ',
      'Did it? ',
      'Yes.',
    ]);
  });

  it('splits Chinese at full-width punctuation', () => {
    expect(splitSentences('梁文锋创立了幻方。DeepSeek很受欢迎！对吗？')).toEqual([
      '梁文锋创立了幻方。',
      'DeepSeek很受欢迎！',
      '对吗？',
    ]);
  });

  it('keeps quotes with the sentence they close', () => {
    expect(splitSentences('He said: "We will." Then he left.')).toEqual([
      'He said: "We will." ',
      'Then he left.',
    ]);
  });

  it('loses nothing: the sentences join back into the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        expect(splitSentences(text).join('')).toBe(text);
      }),
      // Fixed, so a failure reproduces everywhere.
      { seed: 839996533 },
    );
  });
});
