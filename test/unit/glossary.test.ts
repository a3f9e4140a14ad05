import { describe, expect, it } from 'vitest';
import { createGlossaryMatcher, parseGlossaryTable } from '../../src/core/glossary.ts';

const table = `| 中文 | English | Notes |
| --- | :---: | --- |
| 深度求索 | DeepSeek | the start-up |
| 幻方量化 / 幻方 | High-Flyer | hedge fund |
| 月之暗面 | Moonshot AI / Moonshot | |
| 豆包 | | no English term |`;

describe('glossary', () => {
  it('reads Chinese and English terms from the first two columns, skipping header, separator and notes', () => {
    expect(parseGlossaryTable(table)).toEqual([
      { terms: ['深度求索', 'DeepSeek'] },
      { terms: ['幻方量化', '幻方', 'High-Flyer'] },
      { terms: ['月之暗面', 'Moonshot AI', 'Moonshot'] },
    ]);
  });

  it('expands a Chinese question with the English names it mentions', () => {
    const expand = createGlossaryMatcher(parseGlossaryTable(table));
    expect(expand('幻方是谁创立的？')).toEqual(['幻方量化', 'High-Flyer']);
    expect(expand('月之暗面和深度求索')).toEqual(['DeepSeek', 'Moonshot AI', 'Moonshot']);
  });

  it('matches Latin terms as whole words only, case-insensitively', () => {
    const expand = createGlossaryMatcher(parseGlossaryTable(table));
    expect(expand('what did deepseek do?')).toEqual(['深度求索']);
    expect(expand('DeepSeeking answers')).toEqual([]);
  });
});
