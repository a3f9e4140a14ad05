import fc from 'fast-check';
import { Lexer, marked } from 'marked';
import { describe, expect, it } from 'vitest';
import {
  htmlToPlainText,
  renderCitations,
  renderReasoning,
  renderTelegramAnswer,
  renderTelegramHtml,
  renderTelegramPreview,
  telegramTextLimit,
} from '../../src/adapters/telegram/render.ts';
import type { AnswerDone } from '../../src/core/answer-events.ts';
import { parseTelegramHtml } from '../fakes/fake-telegram.ts';

const markdownish = fc.string({
  unit: fc.constantFrom(
    ...'*_`~<>&[]()#-|!\\:/."\' \n\tab1é中😀'.split(''),
    '**',
    '```',
    '> ',
    '- ',
    '1. ',
    'http://x.example',
    '<b>',
    '</b>',
    '&amp;',
    '\n\n',
  ),
  maxLength: 400,
});

function done(answer: string, overrides: Partial<AnswerDone> = {}): AnswerDone {
  return {
    type: 'done',
    answerId: 'a1',
    latencyMs: 0,
    answer,
    citations: [],
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

const english = { showReasoning: 'collapsed', language: 'en' } as const;

/**
 * Property runs use a fixed seed so a failure in CI is a failure on every machine, never a one-in-thirteen
 * surprise; change the seed on purpose to explore new inputs, and keep every counterexample as its own test.
 */
const propertySeed = 839996533;

describe('Telegram HTML rendering', () => {
  it('renders the Markdown a model writes as Telegram HTML', () => {
    const html = renderTelegramHtml(
      [
        '## DeepSeek',
        '',
        '**Liang Wenfeng** founded _High-Flyer_ ~~in 2016~~ in 2015 [1]. See `R1` and [the paper](https://example.org/paper).',
        '',
        '- open weights',
        '- cheap training',
        '',
        '> a quote',
        '',
        '```python',
        'print(1 < 2)',
        '```',
      ].join('\n'),
    );
    expect(html).toBe(
      [
        '<b>DeepSeek</b>',
        '',
        '<b>Liang Wenfeng</b> founded <i>High-Flyer</i> <s>in 2016</s> in 2015 [1]. See <code>R1</code> and <a href="https://example.org/paper">the paper</a>.',
        '',
        '• open weights\n• cheap training',
        '',
        '<blockquote>a quote</blockquote>',
        '',
        '<pre><code class="language-python">print(1 &lt; 2)</code></pre>',
      ].join('\n'),
    );
  });

  it('shows raw HTML, comparisons and stray markers from the model literally', () => {
    const html = renderTelegramHtml('<script>alert(1)</script> a < b & c, **unbalanced and <b>bold?</b>');
    expect(parseTelegramHtml(html).text).toBe(
      '<script>alert(1)</script> a < b & c, **unbalanced and <b>bold?</b>',
    );
  });

  it('links only http, https and tg URLs; others become text', () => {
    const html = renderTelegramHtml(
      '[x](javascript:alert(1)) [y](https://a.example/?q="1"&r=2) [z](/relative)',
    );
    expect(html).toBe('x <a href="https://a.example/?q=&quot;1&quot;&amp;r=2">y</a> z');
    expect(parseTelegramHtml(html).entities).toEqual([
      { type: 'text_link', offset: 2, length: 1, url: 'https://a.example/?q="1"&r=2' },
    ]);
  });

  it('never nests blockquotes or puts code inside a quote or a link', () => {
    const html = renderTelegramHtml(
      '> outer\n> > inner\n> ```\n> code\n> ```\n\n[`code` link](https://a.example)',
    );
    expect(html).toBe(
      '<blockquote>outer\ninner\ncode</blockquote>\n\n<a href="https://a.example">code link</a>',
    );
  });

  it('produces markup Telegram accepts, whose visible text we measure exactly, for any input', () => {
    fc.assert(
      fc.property(markdownish, (markdown) => {
        const html = renderTelegramHtml(markdown);
        const parsed = parseTelegramHtml(html);
        expect(htmlToPlainText(html)).toBe(parsed.text);
      }),
      { numRuns: 400, seed: propertySeed },
    );
  });
});

describe('Telegram answer messages', () => {
  it('ends an answer with a compact numbered list of sources', () => {
    const [message] = renderTelegramAnswer(
      done('Liang Wenfeng founded it [1].', {
        citations: [{ n: 1, id: 'mini#founder', source: 'mini.md', heading: "DeepSeek's <founder>" }],
      }),
      '',
      english,
    );
    expect(message).toBe(
      "Liang Wenfeng founded it [1].\n\n<b>Sources</b>\n[1] DeepSeek's &lt;founder&gt; — mini.md",
    );
    expect(renderCitations([{ n: 2, id: 'x', source: 'a.md', heading: 'H' }], 'zh')).toBe(
      '<b>出处</b>\n[2] H — a.md',
    );
  });

  it('puts the reasoning in an expandable blockquote only when enabled', () => {
    const [message] = renderTelegramAnswer(done('Answer.'), 'I compare <b> & </b>', english);
    expect(message).toBe(
      '<blockquote expandable>💭 <i>Reasoning</i>\nI compare &lt;b&gt; &amp; &lt;/b&gt;</blockquote>\n\nAnswer.',
    );
    expect(renderTelegramAnswer(done('Answer.'), 'thinking', { ...english, showReasoning: 'off' })).toEqual([
      'Answer.',
    ]);
    const long = renderReasoning('x'.repeat(10_000), english);
    expect(htmlToPlainText(long).length).toBeLessThan(2000);
  });

  it('marks an answer cut short with a visible note', () => {
    const [message] = renderTelegramAnswer(
      done('Partial', { incomplete: true, incompleteReason: 'cut_off' }),
      '',
      english,
    );
    expect(message).toBe('Partial\n\n<i>⚠️ The answer was cut off by the model provider.</i>');
  });

  it('splits a long answer into messages of at most 4096 visible characters without losing text', () => {
    const sentences = Array.from(
      { length: 120 },
      (_, i) => `Sentence **${i}** about DeepSeek & Qwen < Kimi, with \`code ${i}\`.`,
    );
    const answer = [0, 1, 2, 3, 4, 5].map((p) => sentences.slice(p * 20, p * 20 + 20).join(' ')).join('\n\n');
    expect(answer.length).toBeGreaterThan(6000);
    const messages = renderTelegramAnswer(done(answer), 'why', english);
    expect(messages.length).toBeGreaterThan(1);
    const visible = messages.map((html) => parseTelegramHtml(html).text);
    for (const text of visible) expect(text.length).toBeLessThanOrEqual(telegramTextLimit);
    const all = visible.join('\n');
    for (let i = 0; i < 120; i++)
      expect(all).toContain(`Sentence ${i} about DeepSeek & Qwen < Kimi, with code ${i}.`);
  });

  it('previews a streaming answer as the messages it would take, reasoning first', () => {
    expect(renderTelegramPreview({ text: '', reasoning: '' }, english)).toEqual([]);
    expect(
      renderTelegramPreview({ text: '', reasoning: 'hmm' }, { ...english, showReasoning: 'off' }),
    ).toEqual([]);
    const [preview] = renderTelegramPreview({ text: 'Liang **Wen', reasoning: 'hmm' }, english);
    expect(preview).toBe('<blockquote expandable>💭 <i>Thinking…</i>\nhmm</blockquote>\n\nLiang **Wen');
  });
});

/** Letters, digits and emoji: the characters a reader would miss if rendering or splitting dropped them. */
function contentCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [char] of text.matchAll(/[\p{L}\p{N}\p{Extended_Pictographic}]/gu)) {
    counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  return counts;
}

/** Every content character of `expected` appears in `actual` at least as often. */
function expectContentKept(expected: string, actual: string): void {
  const have = contentCounts(actual);
  const missing = [...contentCounts(expected)].filter(([char, n]) => (have.get(char) ?? 0) < n);
  expect(missing).toEqual([]);
}

/**
 * The Markdown's own text as its parser sees it — every leaf token, reference definitions included — but not
 * the targets of links and images, which only a clickable link shows (unsafe ones, like `javascript:`, never).
 */
function textOutsideLinkTargets(markdown: string): string {
  const parts: string[] = [];
  marked.walkTokens(Lexer.lex(markdown, { gfm: true }), (token) => {
    if (token.type === 'def') parts.push(token.raw);
    else if (token.type === 'image') parts.push(token.text);
    else if (!('tokens' in token && token.tokens) && 'text' in token && typeof token.text === 'string')
      parts.push(token.text);
  });
  return parts.join('\n');
}

/** What a reader gets from our HTML: the visible text and the targets of its links. */
function readable(html: string): string {
  const { text, entities } = parseTelegramHtml(html);
  const urls = entities.flatMap((entity) => (entity.type === 'text_link' ? [entity.url] : []));
  return [text, ...urls].join('\n');
}

/** Long model output: paragraphs of Markdown-ish text, emoji, CJK, code fences and links, up to ~9000 chars. */
const longMarkdown = fc
  .array(fc.oneof(markdownish, fc.constantFrom('\n\n', '```\ncode 😀\n', 'Liang 梁文锋 🚀 '.repeat(40))), {
    maxLength: 30,
    size: 'max',
  })
  // `markdownish` can split 😀 into halves; model text arrives as decoded UTF-8, always well-formed.
  .map((parts) => parts.join('').toWellFormed());
const emojiReasoning = fc.string({
  unit: fc.constantFrom('🤔', 'a', ' ', '梁', '\n', '<', '&'),
  maxLength: 3000,
  size: 'xlarge',
});

describe('Telegram messages for any model output', () => {
  it('are valid, balanced HTML within 4096 visible characters, with no broken surrogate pair', () => {
    fc.assert(
      fc.property(longMarkdown, emojiReasoning, fc.boolean(), (answer, reasoning, incomplete) => {
        const citations = [{ n: 1, id: 'x', source: `${'🚀'.repeat(40)}.md`, heading: '🤔'.repeat(80) }];
        const messages = renderTelegramAnswer(
          done(answer, { citations, incomplete, incompleteReason: 'cut_off' }),
          reasoning,
          english,
        );
        expect(messages.length).toBeGreaterThan(0);
        for (const html of messages) {
          expect(html.isWellFormed()).toBe(true);
          const { text } = parseTelegramHtml(html);
          expect(text.length).toBeLessThanOrEqual(telegramTextLimit);
          expect(text.trim()).not.toBe('');
        }
      }),
      { numRuns: 150, seed: propertySeed },
    );
  });

  it('lose no letter, digit or emoji of the answer when split across messages', () => {
    fc.assert(
      fc.property(longMarkdown, (answer) => {
        // Splitting drops the answer's surrounding whitespace, which can change an indented first line.
        const whole = readable(renderTelegramHtml(answer.trim()));
        const messages = renderTelegramAnswer(done(answer), '', { ...english, showReasoning: 'off' });
        expectContentKept(whole, messages.map(readable).join('\n'));
      }),
      { numRuns: 150, seed: propertySeed },
    );
  });

  it('keep the text on a fence line when a long answer is cut there (seed 839996533)', () => {
    const line = 'Liang 梁文锋 🚀 '.repeat(330);
    const answer = `${line}\n\`\`\`${line}`;
    const messages = renderTelegramAnswer(done(answer), '', { ...english, showReasoning: 'off' });
    const shown = messages.map((html) => parseTelegramHtml(html).text).join('');
    expect(shown.match(/梁文锋/g)).toHaveLength(660);
    for (const html of messages) expect(parseTelegramHtml(html).text.length).toBeLessThanOrEqual(4096);
  });

  it('show the words after a fence marker as code instead of dropping them', () => {
    expect(parseTelegramHtml(renderTelegramHtml("```python print('hi')\nx = 1\n```")).text).toBe(
      "python print('hi')\nx = 1",
    );
    expect(renderTelegramHtml('```ts\nconst a = 1;\n```')).toBe(
      '<pre><code class="language-ts">const a = 1;</code></pre>',
    );
  });

  it('never send a message with nothing to show, such as an empty code block', () => {
    expect(renderTelegramAnswer(done('```\n```'), '', english)).toEqual([]);
    expect(renderTelegramAnswer(done('Hi\n\n```\n```'), '', english)).toEqual(['Hi\n\n<pre></pre>']);
  });

  it('show a reference definition as written instead of dropping it', () => {
    const html = renderTelegramHtml('Liang [1].\n\n[1]: https://example.com/paper "The paper"');
    expect(parseTelegramHtml(html).text).toBe('Liang 1.\n\n[1]: https://example.com/paper "The paper"');
  });

  it('show every letter, digit and emoji of the Markdown, except the targets of links', () => {
    fc.assert(
      fc.property(markdownish, (markdown) => {
        expectContentKept(textOutsideLinkTargets(markdown), readable(renderTelegramHtml(markdown)));
      }),
      { numRuns: 400, seed: propertySeed },
    );
  });
});
