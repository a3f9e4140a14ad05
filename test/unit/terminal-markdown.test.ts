import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { wantsColor } from '../../src/adapters/cli/render.ts';
import {
  createTerminalMarkdown,
  renderMarkdownForTerminal,
} from '../../src/adapters/cli/terminal-markdown.ts';

const answer = [
  '## DeepSeek',
  'DeepSeek was **founded** by _Liang Wenfeng_ [1] in `2023`.',
  '- self-funded',
  '* independent of **state** money',
  '',
  '> quoted \\*literally\\*',
  '---',
  '```',
  'code **stays**',
  '```',
  'snake_case_name and 5 * 3 = 15',
  '1. first',
].join('\n');

const plain = [
  'DeepSeek',
  'DeepSeek was founded by Liang Wenfeng [1] in 2023.',
  '• self-funded',
  '• independent of state money',
  '',
  '│ quoted *literally*',
  '─'.repeat(24),
  'code **stays**',
  'snake_case_name and 5 * 3 = 15',
  '1. first',
].join('\n');

/** Feeds `text` in pieces of `size` characters, as a model stream would. */
function streamed(text: string, size: number, color: boolean): string {
  const markdown = createTerminalMarkdown(color);
  let out = '';
  for (let i = 0; i < text.length; i += size) out += markdown.push(text.slice(i, i + size));
  return out + markdown.end();
}

describe('Markdown for the terminal', () => {
  it('shows headings, emphasis, lists, quotes and rules without their markers when colour is off', () => {
    expect(renderMarkdownForTerminal(answer, false)).toBe(plain);
  });

  it('turns bold, italics, code and headings into ANSI styles when colour is on, closing each', () => {
    const colored = renderMarkdownForTerminal(answer, true);
    expect(colored).toContain('\x1b[0;1mfounded\x1b[0m');
    expect(colored).toContain('\x1b[0;3mLiang Wenfeng\x1b[0m');
    expect(colored).toContain('\x1b[0;36m2023\x1b[0m');
    expect(colored).toContain('\x1b[0;1mDeepSeek\x1b[0m\n');
    expect(stripVTControlCharacters(colored)).toBe(plain);
  });

  it('renders the same however the stream is cut, and holds back only what may be a marker', () => {
    for (const size of [1, 2, 3, 5, 8, 13]) {
      expect(streamed(answer, size, false)).toBe(plain);
      expect(streamed(answer, size, true)).toBe(renderMarkdownForTerminal(answer, true));
    }
    const markdown = createTerminalMarkdown(false);
    expect(markdown.push('Founded by *')).toBe('Founded by ');
    expect(markdown.push('*Liang')).toBe('Liang');
    expect(markdown.push('** in 2023')).toBe(' in 2023');
    expect(markdown.push('\n-')).toBe('\n');
    expect(markdown.push(' item')).toBe('• item');
  });

  it('closes a style left open when the answer stops mid-way', () => {
    const markdown = createTerminalMarkdown(true);
    expect(markdown.push('cut **off')).toBe('cut \x1b[0;1moff');
    expect(markdown.end()).toBe('\x1b[0m');
  });
});

describe('colour choice', () => {
  it('colours a terminal, not a pipe; NO_COLOR turns it off and FORCE_COLOR decides over both', () => {
    expect(wantsColor(true, {})).toBe(true);
    expect(wantsColor(false, {})).toBe(false);
    expect(wantsColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor(true, { NO_COLOR: '' })).toBe(true);
    expect(wantsColor(false, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(wantsColor(true, { FORCE_COLOR: '0' })).toBe(false);
  });
});
