import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  neutralizeMentions,
  renderDiscordAnswer,
  renderDiscordProgress,
  splitForDiscord,
} from '../../src/adapters/discord/render.ts';
import { openFenceAt } from '../../src/adapters/shared/split-markdown.ts';
import type { AnswerDone } from '../../src/core/answer-events.ts';

const collapsed = { showReasoning: 'collapsed', language: 'en' } as const;
const off = { showReasoning: 'off', language: 'en' } as const;
/** Fixed, so a property failure reproduces everywhere; counterexamples stay as tests of their own. */
const propertySeed = 839996533;

function done(answer: string, overrides: Partial<AnswerDone> = {}): AnswerDone {
  return {
    type: 'done',
    answerId: 'a1',
    latencyMs: 0,
    answer,
    citations: [
      { n: 1, id: 'mini#founder', source: 'Test Gazette', heading: "DeepSeek's founder" },
      { n: 2, id: 'mini#funding', source: 'Test Gazette', heading: 'State funding' },
    ],
    mode: 'llm',
    model: 'deepseek-flash',
    usage: undefined,
    knowledgeVersion: 'v1',
    notCovered: false,
    incomplete: false,
    cached: false,
    ...overrides,
  };
}

const fenceCount = (text: string) => (text.match(/^```/gm) ?? []).length;

describe('Discord rendering', () => {
  it('makes @everyone, @here and mention tokens inert', () => {
    const text = neutralizeMentions('Hi @everyone and @here, ping <@123>, <@!456> and role <@&789>.');
    expect(text).not.toMatch(/@(everyone|here)/);
    expect(text).not.toMatch(/<@[!&]?\d+>/);
    expect(text.replace(/\u200D/g, '')).toBe(
      'Hi @everyone and @here, ping <@123>, <@!456> and role <@&789>.',
    );
  });

  it('ends the answer with a compact subtext sources footer', () => {
    const [message] = renderDiscordAnswer(done('Liang Wenfeng founded DeepSeek [1].'), '', off);
    expect(message).toBe(
      "Liang Wenfeng founded DeepSeek [1].\n\n-# Sources: [1] DeepSeek's founder — Test Gazette · [2] State funding — Test Gazette",
    );
  });

  it('labels the footer in Chinese for a Chinese question', () => {
    const [message] = renderDiscordAnswer(done('梁文锋创立了深度求索 [1]。'), '', { ...off, language: 'zh' });
    expect(message).toContain('-# 出处： [1]');
  });

  it('shows reasoning as one collapsed spoiler line above the answer, only when configured', () => {
    const reasoning = 'The user asks || about **DeepSeek**.\nLook at [1] @everyone';
    const [shown] = renderDiscordAnswer(done('Answer [1].'), reasoning, collapsed);
    const [firstLine, ...rest] = (shown as string).split('\n');
    expect(firstLine).toMatch(/^-# 💭 Reasoning: \|\|.*\|\|$/);
    expect(firstLine?.slice(firstLine.indexOf('||') + 2, -2)).not.toMatch(/(?<!\\)\|\|/);
    expect(firstLine).not.toContain('@everyone');
    expect(rest.join('\n')).not.toContain('DeepSeek**');
    const [hidden] = renderDiscordAnswer(done('Answer [1].'), reasoning, off);
    expect(hidden).not.toContain('💭');
  });

  it('notes visibly when the answer was cut off', () => {
    const chunks = renderDiscordAnswer(
      done('Partial answer', { incomplete: true, incompleteReason: 'cut_off' }),
      '',
      off,
    );
    expect(chunks.at(-1)).toMatch(/-# ⚠️ The answer was cut off by the model provider\.$/);
  });

  it('closes a code fence the model left open, so the footer stays outside it', () => {
    const [message] = renderDiscordAnswer(done('Code:\n```ts\nconst x = 1;'), '', off);
    expect(fenceCount(message as string)).toBe(2);
    expect((message as string).indexOf('-# Sources')).toBeGreaterThan((message as string).lastIndexOf('```'));
  });

  it('splits a 5000-character answer into messages of at most 2000 characters, fences balanced', () => {
    const paragraph = (i: number) =>
      `Paragraph ${i} talks about the AI race in some detail. `.repeat(4).trim();
    const code = `\`\`\`python\n${Array.from({ length: 40 }, (_, i) => `print(${i})  # line`).join('\n')}\n\`\`\``;
    const answer = [...Array.from({ length: 20 }, (_, i) => paragraph(i)), code, paragraph(99)].join('\n\n');
    expect(answer.length).toBeGreaterThan(5000);
    const chunks = renderDiscordAnswer(done(answer), 'thinking '.repeat(100), collapsed);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(2000);
      expect(fenceCount(chunk) % 2).toBe(0);
    }
    expect(chunks.filter((chunk) => chunk.includes('💭'))).toHaveLength(1);
    const joined = chunks.join('\n').replace(/\s+/g, '');
    for (let i = 0; i < 40; i++) expect(joined).toContain(`print(${i})#line`);
    expect(chunks.at(-1)).toContain('-# Sources');
  });

  it('never cuts inside a masked link', () => {
    const link = '[a long link text with many words in it](https://example.com/a/b)';
    const text = Array.from({ length: 60 }, () => link).join(' ');
    for (const chunk of splitForDiscord(text, 500)) {
      expect(chunk.replaceAll(link, '').trim()).toBe('');
    }
  });

  it('keeps every message within the limit and every mention inert, for any model output', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 6000 }),
        fc.constantFrom('', '@everyone ', '<@&12345> ', '```\n'),
        (body, prefix) => {
          const chunks = renderDiscordAnswer(done(prefix + body + prefix), 'r'.repeat(3000), collapsed);
          for (const chunk of chunks) {
            expect(chunk.length).toBeLessThanOrEqual(2000);
            expect(chunk).not.toMatch(/@everyone|<@&\d+>/);
          }
        },
      ),
      { numRuns: 60, seed: propertySeed },
    );
  });
});

describe('Discord live view', () => {
  it('shows a small thinking line (with the latest reasoning when collapsed) before text arrives', () => {
    expect(renderDiscordProgress({ text: '', reasoning: '' }, collapsed)).toBe('-# 💭 Thinking…');
    expect(renderDiscordProgress({ text: '', reasoning: 'secret plan' }, off)).toBe('-# 💭 Thinking…');
    expect(renderDiscordProgress({ text: '', reasoning: 'weighing *sources*' }, collapsed)).toBe(
      '-# 💭 Thinking… weighing \\*sources\\*',
    );
  });

  it('shows the text so far with a cursor, closing an open fence and staying within one message', () => {
    expect(renderDiscordProgress({ text: 'Liang', reasoning: '' }, off)).toBe('Liang ▌');
    expect(renderDiscordProgress({ text: '```js\nlet a', reasoning: '' }, off)).toBe('```js\nlet a ▌\n```');
    const long = renderDiscordProgress(
      { text: 'word '.repeat(1000), reasoning: 'r'.repeat(2000) },
      collapsed,
    );
    expect(long.length).toBeLessThanOrEqual(2000);
  });
});

describe('Discord messages for any model output', () => {
  const letters = (text: string) => [...text.matchAll(/[\p{L}\p{N}\p{Extended_Pictographic}]/gu)].length;
  const emojiText = fc.string({
    unit: fc.constantFrom('🤔', '😀', 'a', ' ', '\n', '梁', '`', '```\n', '*', '|', '@everyone '),
    maxLength: 6000,
    size: 'xlarge',
  });

  it('keep code fences balanced, break no surrogate pair and lose no letter, digit or emoji', () => {
    fc.assert(
      fc.property(emojiText, emojiText, (answer, reasoning) => {
        const chunks = renderDiscordAnswer(done(answer), reasoning, off);
        for (const chunk of chunks) {
          expect(chunk.length).toBeLessThanOrEqual(2000);
          expect(chunk.isWellFormed()).toBe(true);
          expect(openFenceAt(chunk)).toBe('');
        }
        expect(letters(chunks.join('\n'))).toBeGreaterThanOrEqual(letters(answer));
        for (const shown of [
          ...renderDiscordAnswer(done(answer), reasoning, collapsed),
          renderDiscordProgress({ text: answer, reasoning }, collapsed),
          renderDiscordProgress({ text: '', reasoning }, collapsed),
        ]) {
          expect(shown.length).toBeLessThanOrEqual(2000);
          expect(shown.isWellFormed()).toBe(true);
        }
      }),
      { numRuns: 150, seed: propertySeed },
    );
  });
});
