import { Lexer, type Token, type Tokens } from 'marked';
import type { AnswerDone, Citation } from '../../core/answer-events.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { LlmError } from '../../core/errors.ts';
import type { ReplyLanguage } from '../../core/question.ts';
import { headUnits, tailUnits } from '../../core/text.ts';
import { splitMarkdown } from '../shared/split-markdown.ts';
import type { AnswerSnapshot } from '../shared/throttled-answer.ts';

/**
 * Telegram's limit on a message's text, counted after entity parsing (tags removed, entities decoded).
 * We measure in UTF-16 units, which is never fewer than Telegram's count, so measuring stays on the safe side.
 * @see https://core.telegram.org/bots/api#sendmessage
 */
export const telegramTextLimit = 4096;

/** How an answer is shown: whether the model's reasoning appears, and the language of our own labels. */
export interface TelegramRenderOptions {
  showReasoning: 'off' | 'collapsed';
  language: ReplyLanguage;
  /** The bot itself cut the answer short (shutting down), so the note must not blame the model provider. */
  stopped?: boolean;
  /** A line inviting a human (plain text), shown last when the knowledge did not cover the question. */
  handoff?: string;
}

const reasoningFinalChars = 1500;
const reasoningPreviewChars = 600;
const headingChars = 100;
const sourceChars = 60;
const separator = '\n\n';

/** Escapes text for Telegram's HTML mode: `&`, `<` and `>` become the entities Telegram decodes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

/**
 * Links Telegram opens safely; anything else (javascript:, data:, relative paths) is shown as text — and so is
 * `tg://user?id=…`, which Telegram turns into an inline mention that notifies that user.
 */
function isSafeHref(href: string): boolean {
  const url = href.trim();
  return /^(https?:\/\/[^\s]+|tg:\/\/[^\s]+)$/i.test(url) && !/^tg:\/\/user\b/i.test(url);
}

const wordJoiner = '\u2060';

/**
 * Keeps every `@username` in our HTML from becoming a mention. Telegram links — and in a group notifies —
 * each `@name` it finds in a message, so without this a model or a user could make the bot ping anyone. A word
 * joiner after the `@` is invisible and ends Telegram's match. Tags, code (where Telegram finds no mentions)
 * and e-mail addresses are left as they are.
 * @see https://core.telegram.org/bots/api#messageentity
 */
export function defuseMentions(html: string): string {
  let codeDepth = 0;
  return html.replace(
    /<(\/?)(code|pre)\b[^>]*>|<[^>]*>|(?<![A-Za-z0-9_])@(?=[A-Za-z0-9_])/g,
    (match: string, closing: string | undefined, code: string | undefined) => {
      if (code) codeDepth += closing ? -1 : 1;
      else if (match === '@' && codeDepth === 0) return `@${wordJoiner}`;
      return match;
    },
  );
}

/** Which formatting is already open, so we never emit a tag Telegram would reject inside another. */
interface InlineContext {
  open: ReadonlySet<'b' | 'i' | 's'>;
  inLink: boolean;
}

function wrap(tag: 'b' | 'i' | 's', tokens: Token[] | undefined, context: InlineContext): string {
  if (context.open.has(tag)) return renderInline(tokens, context);
  const inner = renderInline(tokens, { ...context, open: new Set([...context.open, tag]) });
  return `<${tag}>${inner}</${tag}>`;
}

function renderInline(tokens: Token[] | undefined, context: InlineContext): string {
  if (!tokens) return '';
  return tokens.map((token) => renderInlineToken(token, context)).join('');
}

function renderInlineToken(token: Token, context: InlineContext): string {
  switch (token.type) {
    case 'text':
      return 'tokens' in token && token.tokens ? renderInline(token.tokens, context) : escapeHtml(token.text);
    case 'escape':
      return escapeHtml(token.text);
    case 'strong':
      return wrap('b', token.tokens, context);
    case 'em':
      return wrap('i', token.tokens, context);
    case 'del':
      return wrap('s', token.tokens, context);
    case 'codespan':
      // Code can't live inside a link on Telegram; there it is plain text.
      return context.inLink ? escapeHtml(token.text) : `<code>${escapeHtml(token.text)}</code>`;
    case 'br':
      return '\n';
    case 'link': {
      const link = token as Tokens.Link;
      const inner = renderInline(link.tokens, { ...context, inLink: true });
      if (context.inLink || !isSafeHref(link.href)) return inner;
      return `<a href="${escapeAttribute(link.href.trim())}">${inner || escapeHtml(link.href)}</a>`;
    }
    case 'image': {
      const image = token as Tokens.Image;
      const label = escapeHtml(image.text || image.href);
      if (context.inLink || !isSafeHref(image.href)) return label;
      return `<a href="${escapeAttribute(image.href.trim())}">${label}</a>`;
    }
    default:
      // Raw HTML from the model and anything unknown is shown literally, never interpreted.
      return escapeHtml('text' in token && typeof token.text === 'string' ? token.text : token.raw);
  }
}

const topInline: InlineContext = { open: new Set(), inLink: false };

function renderList(list: Tokens.List, depth: number, inQuote: boolean): string {
  const start = typeof list.start === 'number' ? list.start : 1;
  return list.items
    .map((item, index) => {
      const marker = list.ordered ? `${start + index}.` : item.task ? (item.checked ? '☑' : '☐') : '•';
      const body = item.tokens
        .map((child) =>
          child.type === 'list'
            ? renderList(child as Tokens.List, depth + 1, inQuote)
            : renderBlock(child, inQuote, depth + 1),
        )
        .filter((part) => part !== '')
        .join('\n');
      return `${'  '.repeat(depth)}${marker} ${body}`;
    })
    .join('\n');
}

function renderTable(table: Tokens.Table): string {
  const row = (cells: Tokens.TableCell[]) =>
    cells.map((cell) => renderInline(cell.tokens, topInline)).join(' | ');
  return [`<b>${row(table.header)}</b>`, ...table.rows.map(row)].join('\n');
}

/**
 * A fence's info string is a language only when it is one word ("```ts"). Anything longer ("```python print(1)",
 * or a long answer cut on its fence line) is the model's text, shown as the code's first line rather than dropped.
 */
function renderCode(code: Tokens.Code, inQuote: boolean): string {
  const info = code.lang?.trim() ?? '';
  const language = /^[\w#+.-]{1,32}$/.test(info) ? info : '';
  const infoText = language ? '' : info;
  const body = escapeHtml(infoText && code.text ? `${infoText}\n${code.text}` : infoText || code.text);
  // A blockquote can't contain a pre entity: inside a quote the code stays as plain lines.
  if (inQuote) return body;
  return language ? `<pre><code class="language-${language}">${body}</code></pre>` : `<pre>${body}</pre>`;
}

function renderBlock(token: Token, inQuote: boolean, depth = 0): string {
  switch (token.type) {
    case 'space':
      return '';
    case 'def':
      // A reference definition ("[1]: https://…") is the model's text too; shown as written, not dropped.
      return escapeHtml(token.raw.trim());
    case 'paragraph':
    case 'text':
      return 'tokens' in token && token.tokens
        ? renderInline(token.tokens, topInline)
        : escapeHtml((token as Tokens.Text).text);
    case 'heading':
      return `<b>${renderInline((token as Tokens.Heading).tokens, { ...topInline, open: new Set(['b']) })}</b>`;
    case 'code':
      return renderCode(token as Tokens.Code, inQuote);
    case 'blockquote': {
      const inner = renderBlocks((token as Tokens.Blockquote).tokens, true);
      // Telegram can't nest blockquotes: an inner quote's text joins the outer one.
      return inQuote || !inner ? inner : `<blockquote>${inner}</blockquote>`;
    }
    case 'list':
      return renderList(token as Tokens.List, depth, inQuote);
    case 'table':
      return renderTable(token as Tokens.Table);
    case 'hr':
      return '———';
    default:
      return escapeHtml(('text' in token && typeof token.text === 'string' ? token.text : token.raw).trim());
  }
}

function renderBlocks(tokens: Token[], inQuote: boolean): string {
  return tokens
    .map((token) => renderBlock(token, inQuote))
    .filter((part) => part !== '')
    .join(inQuote ? '\n' : separator);
}

/**
 * Model Markdown as Telegram HTML. Only the tags Telegram supports are produced, always balanced and never
 * nested where Telegram forbids it; every other character of the input is escaped, so no input (raw HTML,
 * `<`, `&`, an unbalanced `**`) can make Telegram answer "can't parse entities".
 * @see https://core.telegram.org/bots/api#html-style
 */
export function renderTelegramHtml(markdown: string): string {
  return defuseMentions(renderBlocks(Lexer.lex(markdown, { gfm: true }), false).trim());
}

/**
 * What Telegram shows for our HTML: tags removed and the four entities we emit decoded. Its length is what
 * Telegram counts against the 4096 limit, and it is the plain-text fallback when Telegram rejects the markup.
 */
export function htmlToPlainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(
      /&(lt|gt|quot|amp);/g,
      (_, name: string) => ({ lt: '<', gt: '>', quot: '"', amp: '&' })[name] ?? '',
    );
}

/** Telegram's length of a message in our HTML. */
function visibleLength(html: string): number {
  return htmlToPlainText(html).length;
}

/** Splits Markdown so each piece renders to at most `limit` visible characters, at paragraph/sentence cuts. */
function splitForTelegram(markdown: string, limit: number): string[] {
  return (
    splitMarkdown(markdown, limit, (chunk) => visibleLength(renderTelegramHtml(chunk)))
      .map(renderTelegramHtml)
      // Markup with nothing to show (an empty code block) would be a message Telegram refuses as empty.
      .filter((html) => htmlToPlainText(html).trim() !== '')
  );
}

/** Puts rendered pieces into as few messages as fit, in order; a piece is never cut, so no tag is. */
function pack(pieces: string[], limit: number): string[] {
  const messages: string[] = [];
  let current = '';
  for (const piece of pieces.filter(Boolean)) {
    const joined = current ? `${current}${separator}${piece}` : piece;
    if (current && visibleLength(joined) > limit) {
      messages.push(current);
      current = piece;
    } else {
      current = joined;
    }
  }
  if (current) messages.push(current);
  return messages;
}

function truncate(text: string, maxChars: number, keep: 'head' | 'tail'): string {
  const clean = text.replace(/\n{3,}/g, '\n\n').trim();
  if (clean.length <= maxChars) return clean;
  return keep === 'head' ? `${headUnits(clean, maxChars - 1)}…` : `…${tailUnits(clean, maxChars - 1)}`;
}

/** The model's reasoning as a collapsed blockquote, escaped and truncated; empty when hidden or absent. */
export function renderReasoning(
  reasoning: string,
  options: TelegramRenderOptions,
  keep: 'head' | 'tail' = 'head',
): string {
  if (options.showReasoning === 'off' || !reasoning.trim()) return '';
  const text = truncate(reasoning, keep === 'head' ? reasoningFinalChars : reasoningPreviewChars, keep);
  const label =
    keep === 'head'
      ? catalogFor(options.language).answers.reasoning
      : catalogFor(options.language).answers.thinking;
  return `<blockquote expandable>💭 <i>${label}</i>\n${defuseMentions(escapeHtml(text))}</blockquote>`;
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${headUnits(text, maxChars - 1)}…`;
}

/** The compact numbered list of sections an answer rests on: `Sources` then `[1] Heading — file`. */
export function renderCitations(citations: Citation[], language: ReplyLanguage): string {
  if (citations.length === 0) return '';
  const lines = citations.map(
    (c) =>
      `[${c.n}] ${defuseMentions(escapeHtml(`${clip(c.heading, headingChars)} — ${clip(c.source, sourceChars)}`))}`,
  );
  return `<b>${catalogFor(language).answers.sources}</b>\n${lines.join('\n')}`;
}

function incompleteNote(done: AnswerDone, options: TelegramRenderOptions): string {
  if (!done.incomplete) return '';
  const { language } = options;
  if (options.stopped) {
    return `<i>⚠️ ${escapeHtml(catalogFor(language).answers.stoppedNote)}</i>`;
  }
  const reason = done.incompleteReason ?? 'cut_off';
  const sentence = describeErrorForUser(new LlmError(reason, 'incomplete answer'), language);
  if (reason === 'cut_off') return `<i>⚠️ ${escapeHtml(sentence)}</i>`;
  return `<i>⚠️ ${escapeHtml(catalogFor(language).answers.cutOffLead + sentence)}</i>`;
}

/**
 * The finished answer as Telegram HTML messages, each at most 4096 visible characters: the collapsed
 * reasoning (if enabled), the answer split at paragraph/sentence boundaries, a note if it was cut short, and
 * the sources, then the hand-off line if one is given. Several messages only when one can't hold it all.
 */
export function renderTelegramAnswer(
  done: AnswerDone,
  reasoning: string,
  options: TelegramRenderOptions,
): string[] {
  return pack(
    [
      renderReasoning(reasoning, options),
      ...splitForTelegram(done.answer, telegramTextLimit),
      incompleteNote(done, options),
      renderCitations(done.citations, options.language),
      options.handoff ? `<i>${escapeHtml(options.handoff)}</i>` : '',
    ],
    telegramTextLimit,
  );
}

/**
 * The live view of an answer still being written, as the messages it would take so far: the latest
 * reasoning (collapsed, if enabled) and the text. Empty while there is nothing to show.
 */
export function renderTelegramPreview(snapshot: AnswerSnapshot, options: TelegramRenderOptions): string[] {
  return pack(
    [
      renderReasoning(snapshot.reasoning, options, 'tail'),
      ...splitForTelegram(snapshot.text, telegramTextLimit),
    ],
    telegramTextLimit,
  );
}

/** A command's Markdown reply as Telegram HTML messages. */
export function renderTelegramText(markdown: string): string[] {
  return pack(splitForTelegram(markdown, telegramTextLimit), telegramTextLimit);
}
