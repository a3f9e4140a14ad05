import type { AnswerDone, Citation } from '../../core/answer-events.ts';
import { formatCost } from '../../core/cost.ts';
import type { ScoredPassage } from '../../core/retriever.ts';

/** ANSI styling only when colour is on; otherwise plain text. */
export interface TerminalStyle {
  /** Whether ANSI codes are written (see `wantsColor`). */
  color: boolean;
  dim(text: string): string;
  bold(text: string): string;
}

/**
 * Whether to colour output, as Node itself decides: `FORCE_COLOR` set wins (`0` or `false` means off, any other
 * value on), then `NO_COLOR` set to anything but empty turns colour off, else colour only on a terminal.
 * @see https://no-color.org
 * @see https://nodejs.org/api/cli.html#force_color1-2-3
 */
export function wantsColor(isTty: boolean, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return isTty;
}

/** Styles that write ANSI codes when `color` is on, nothing otherwise. */
export function terminalStyle(color: boolean): TerminalStyle {
  return {
    color,
    dim: (text) => (color ? `\x1b[2m${text}\x1b[22m` : text),
    bold: (text) => (color ? `\x1b[1m${text}\x1b[22m` : text),
  };
}

/** The numbered source list printed after an answer. */
export function renderCitationsForTerminal(citations: Citation[], style: TerminalStyle): string {
  if (citations.length === 0) return '';
  const lines = citations.map((c) => `  [${c.n}] ${c.heading} — ${style.dim(`${c.source} · ${c.id}`)}`);
  return `\n${style.bold('Sources')}\n${lines.join('\n')}\n`;
}

/** A one-line status after the sources: mode, model, tokens, cost, and whether the answer is complete. */
export function renderAnswerFooter(done: AnswerDone, style: TerminalStyle): string {
  const parts: string[] = [done.mode === 'offline' ? 'offline mode' : `model ${done.model}`];
  if (done.cached) parts.push('cached answer');
  if (done.usage) {
    const hit = done.usage.promptCacheHitTokens;
    parts.push(
      `${done.usage.promptTokens} prompt tokens${hit ? ` (${hit} cache hits)` : ''}, ${done.usage.completionTokens} completion tokens`,
    );
  }
  if (done.cost && done.usage) parts.push(formatCost(done.cost));
  const warning = done.incomplete
    ? `\n⚠ The answer was cut off (${done.incompleteReason}); what arrived is shown above.`
    : '';
  return `${style.dim(parts.join(' · '))}${warning}\n`;
}

/** Retrieved passages with scores, for `poquan retrieve` in human form. */
export function renderPassagesForTerminal(passages: ScoredPassage[], style: TerminalStyle): string {
  if (passages.length === 0) return 'No passage is relevant to this question.\n';
  return passages
    .map(
      ({ passage, score }, index) =>
        `${style.bold(`${index + 1}. ${passage.headingPath.join(' › ')}`)} ${style.dim(`(${passage.id}, score ${score.toFixed(2)})`)}\n${passage.text}\n`,
    )
    .join('\n');
}

/** The JSON shape of a passage in `retrieve --json`. */
export function passageToJson({ passage, score }: ScoredPassage) {
  return {
    id: passage.id,
    source: passage.source,
    heading: passage.heading,
    text: passage.text,
    score: Number(score.toFixed(4)),
  };
}
