import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openFenceAt, splitMarkdown } from '../../src/adapters/shared/split-markdown.ts';

const withoutSpace = (text: string) => text.replace(/\s+/g, '');
const withoutFences = (text: string) => text.replace(/```\w*/g, '');
/** Fixed, so a property failure reproduces everywhere; counterexamples stay as tests of their own. */
const propertySeed = 839996533;

describe('Markdown splitter', () => {
  it('returns short text as one chunk', () => {
    expect(splitMarkdown('Hello **world**.', 100)).toEqual(['Hello **world**.']);
  });

  it('prefers paragraph boundaries, then sentences', () => {
    const text = `${'A'.repeat(50)}.\n\n${'B'.repeat(50)}. ${'C'.repeat(30)}.`;
    expect(splitMarkdown(text, 60)).toEqual([
      `${'A'.repeat(50)}.`,
      `${'B'.repeat(50)}.`,
      `${'C'.repeat(30)}.`,
    ]);
  });

  it('closes and reopens a code fence cut in the middle', () => {
    const code = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const chunks = splitMarkdown(`Intro.\n\n\`\`\`ts\n${code}\n\`\`\`\n\nOutro.`, 80);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(80);
      expect((chunk.match(/```/g) ?? []).length % 2).toBe(0);
    }
  });

  it('never exceeds the limit and loses no content, for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 3000 }),
        fc.integer({ min: 20, max: 500 }),
        (text, limit) => {
          const chunks = splitMarkdown(text, limit);
          for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(limit);
          expect(withoutSpace(withoutFences(chunks.join('')))).toBe(withoutSpace(withoutFences(text)));
        },
      ),
      { numRuns: 300, seed: propertySeed },
    );
  });

  it('never cuts an emoji in half or leaves a fence open at a cut, for long text at any limit', () => {
    const text = fc.string({
      unit: fc.constantFrom('😀', '🤔', '梁', 'a', ' ', '\n', '\n\n', '.', '```\n', '~~~\n'),
      size: 'large',
      maxLength: 3000,
    });
    fc.assert(
      fc.property(text, fc.integer({ min: 20, max: 300 }), (input, limit) => {
        const chunks = splitMarkdown(input, limit);
        for (const [index, chunk] of chunks.entries()) {
          expect(chunk.length).toBeLessThanOrEqual(limit);
          expect(chunk.isWellFormed()).toBe(true);
          // Each message renders on its own: only a fence the text itself leaves open may end the last one.
          if (index < chunks.length - 1) expect(openFenceAt(chunk)).toBe('');
        }
        // Reopened fences add only markers: every letter, digit and emoji is there, in order.
        const content = (text: string) => text.replace(/[^\p{L}\p{N}\p{Extended_Pictographic}]/gu, '');
        expect(content(chunks.join(''))).toBe(content(input));
      }),
      { numRuns: 200, seed: propertySeed },
    );
  });

  it('reads fences as CommonMark does: info strings without backticks, bare closing markers', () => {
    expect(openFenceAt('```ts\ncode')).toBe('```');
    expect(openFenceAt('```python print(1)')).toBe('```');
    expect(openFenceAt('```inline``` code')).toBe('');
    expect(openFenceAt('```\ncode\n```js')).toBe('```');
    expect(openFenceAt('```\ncode\n```  ')).toBe('');
    expect(openFenceAt('````\n```\n')).toBe('````');
  });

  it('measures with the given function, e.g. rendered length', () => {
    const chunks = splitMarkdown('a&b '.repeat(50), 40, (chunk) => chunk.replace(/&/g, '&amp;').length);
    for (const chunk of chunks) expect(chunk.replace(/&/g, '&amp;').length).toBeLessThanOrEqual(40);
  });
});
