/**
 * Markdown for a terminal, rendered while it streams: bold, italics and code as ANSI styles (or just without
 * their markers when colour is off), `#` headings bold, `-`/`*`/`+` items as `•`, `>` quotes behind a bar,
 * `---` as a rule, code fences dropped around their lines, backslash escapes resolved. Links, tables and
 * numbered lists stay as written: they read well as plain text. Emphasis ends at the end of a line.
 *
 * Text is written as soon as it can't change meaning: only a possible marker at the very end of what has
 * arrived (a lone `*`, the start of a line that may become `- ` or `---`) waits for the next delta.
 */
export interface TerminalMarkdown {
  /** Feeds the next piece of Markdown; returns the terminal text that is final so far. */
  push(delta: string): string;
  /** Flushes whatever was held back and closes any open style. */
  end(): string;
}

const fence = /^ {0,3}```/;
const rule = /^ {0,3}([-*_])( *\1){2,} *$/;
const heading = /^ {0,3}#{1,6}[ \t]+/;
const quote = /^ {0,3}> ?/;
const bullet = /^([ \t]*)[-*+][ \t]+/;
/** What the start of a line may still turn into one of the prefixes above, once more text arrives. */
const prefixFragment = /^[ \t]*(#{1,6}|>|[-*+]|\d{1,3}\.?|`{1,2}|([-*_] *)+)?$/;
const asciiPunctuation = /[!-/:-@[-`{-~]/;
const wordChar = /[\p{L}\p{N}]/u;

/** A streaming renderer; `color` false gives plain text without markers. */
export function createTerminalMarkdown(color: boolean): TerminalMarkdown {
  let pending = '';
  let lineStart = true;
  let inFence = false;
  let previous = '';
  const style = { heading: false, quote: false, bold: false, italic: false, code: false };

  const sgr = () => {
    if (!color) return '';
    const codes = ['0'];
    if (style.heading || style.bold) codes.push('1');
    if (style.quote) codes.push('2');
    if (style.italic) codes.push('3');
    if (style.code) codes.push('36');
    return `\x1b[${codes.join(';')}m`;
  };
  const anyStyle = () => Object.values(style).some(Boolean);
  const endLine = () => {
    const close = color && anyStyle() ? '\x1b[0m' : '';
    Object.assign(style, { heading: false, quote: false, bold: false, italic: false, code: false });
    lineStart = true;
    previous = '';
    return close;
  };

  /** The styled opening of a line, once enough of it is known; undefined to wait for more text. */
  const lineOpening = (final: boolean): string | undefined => {
    const newline = pending.indexOf('\n');
    const head = newline === -1 ? pending : pending.slice(0, newline);
    const wholeLine = newline !== -1 || final;
    if (inFence || fence.test(head)) {
      if (!wholeLine) return undefined;
      pending = newline === -1 ? '' : pending.slice(newline + 1);
      if (fence.test(head)) {
        inFence = !inFence;
        return '';
      }
      const painted = color ? `\x1b[36m${head}\x1b[0m` : head;
      return newline === -1 ? painted : `${painted}\n`;
    }
    if (!wholeLine && prefixFragment.test(head)) return undefined;
    lineStart = false;
    if (rule.test(head)) {
      pending = pending.slice(head.length);
      return color ? `\x1b[2m${'─'.repeat(24)}\x1b[0m` : '─'.repeat(24);
    }
    const take = (pattern: RegExp) => {
      const match = pattern.exec(pending);
      if (match) pending = pending.slice(match[0].length);
      return match;
    };
    if (take(heading)) {
      style.heading = true;
      return sgr();
    }
    if (take(quote)) {
      style.quote = true;
      return `${sgr()}│ `;
    }
    const item = take(bullet);
    if (item) return `${item[1]}• `;
    return '';
  };

  /** Renders one inline step; undefined when the next characters are needed to decide. */
  const inlineStep = (final: boolean): string | undefined => {
    const char = pending[0] as string;
    const next = pending[1];
    if (char === '\n') {
      pending = pending.slice(1);
      return `${endLine()}\n`;
    }
    if (next === undefined && !final && (char === '\\' || char === '*' || char === '_')) return undefined;
    if (char === '\\' && next !== undefined && asciiPunctuation.test(next)) {
      pending = pending.slice(2);
      previous = next;
      return next;
    }
    if (char === '`') {
      pending = pending.slice(1);
      style.code = !style.code;
      return sgr();
    }
    if (!style.code && (char === '*' || char === '_')) {
      const intraword = char === '_' && wordChar.test(previous);
      if (next === char && !intraword) {
        pending = pending.slice(2);
        style.bold = !style.bold;
        return sgr();
      }
      const opens = !style.italic && next !== undefined && !/\s/.test(next) && !wordChar.test(previous);
      const closes = style.italic && previous !== '' && !/\s/.test(previous);
      if (next !== char && (opens || closes)) {
        pending = pending.slice(1);
        style.italic = !style.italic;
        return sgr();
      }
    }
    pending = pending.slice(1);
    previous = char;
    return char;
  };

  const drain = (final: boolean): string => {
    let out = '';
    while (pending.length > 0) {
      const piece = lineStart ? lineOpening(final) : inlineStep(final);
      if (piece === undefined) break;
      out += piece;
    }
    return out;
  };

  return {
    push(delta) {
      pending += delta;
      return drain(false);
    },
    end() {
      const out = drain(true);
      const close = color && anyStyle() ? '\x1b[0m' : '';
      Object.assign(style, { heading: false, quote: false, bold: false, italic: false, code: false });
      lineStart = true;
      inFence = false;
      return out + close;
    },
  };
}

/** A whole Markdown text for the terminal (command replies such as `/sources`). */
export function renderMarkdownForTerminal(text: string, color: boolean): string {
  const markdown = createTerminalMarkdown(color);
  return markdown.push(text) + markdown.end();
}
