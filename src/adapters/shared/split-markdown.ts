/**
 * Splits Markdown into chunks of at most `limit` characters (as measured by `measure`), preferring
 * paragraph, then line, then sentence, then word boundaries. A chunk that ends inside a fenced code block
 * closes the fence and the next chunk reopens it, so every chunk renders on its own. No character of
 * content is lost; only whitespace at the cut points is dropped.
 */
export function splitMarkdown(
  text: string,
  limit: number,
  measure: (chunk: string) => number = (c) => c.length,
): string[] {
  const chunks: string[] = [];
  let rest = text.trim();
  let reopenFence = '';
  while (rest) {
    const candidate = reopenFence + rest;
    if (measure(candidate) <= limit) {
      chunks.push(candidate);
      break;
    }
    // Leave room for a closing fence; the budget shrinks until the measured chunk fits.
    let budget = limit - reopenFence.length - 4;
    let piece = '';
    let fence = '';
    for (;;) {
      piece = rest.slice(0, cutPoint(rest, Math.max(1, budget)));
      fence = openFenceAt(reopenFence + piece);
      const chunk = reopenFence + piece.trimEnd() + (fence ? `\n${fence}` : '');
      if (measure(chunk) <= limit || budget <= 1) break;
      budget = Math.floor(budget * 0.9);
    }
    chunks.push(reopenFence + piece.trimEnd() + (fence ? `\n${fence}` : ''));
    rest = rest.slice(piece.length).replace(/^\s+/, '');
    reopenFence = fence ? `${fence}\n` : '';
  }
  return chunks;
}

/**
 * The opening fence (e.g. "```ts" → "```") still open at the end of `text`, or '' when none is. Fences follow
 * CommonMark: a backtick fence's info string holds no backtick (so "```x```" on a line is inline code), and a
 * closing fence is the same character, at least as long, with nothing but spaces after it.
 * @see https://spec.commonmark.org/0.31.2/#fenced-code-blocks
 */
export function openFenceAt(text: string): string {
  let open = '';
  for (const match of text.matchAll(/^ {0,3}(`{3,}|~{3,})(.*)$/gm)) {
    const marker = match[1] as string;
    const rest = match[2] as string;
    if (!open) {
      if (marker[0] === '`' && rest.includes('`')) continue;
      open = marker;
    } else if (marker[0] === open[0] && marker.length >= open.length && rest.trim() === '') {
      open = '';
    }
  }
  return open;
}

/** The best index at or before `max` to cut `text` at. */
function cutPoint(text: string, max: number): number {
  const window = text.slice(0, max + 1);
  const boundaries = [/\n\s*\n/g, /\n/g, /[.!?。！？](?=\s)|[。！？]/g, /\s/g];
  for (const boundary of boundaries) {
    let best = -1;
    for (const match of window.matchAll(boundary)) {
      const end = match.index + match[0].length;
      if (end <= max && end > max * 0.3) best = end;
    }
    if (best > 0) return best;
  }
  // No boundary in reach: cut hard, but never between the two halves of a surrogate pair.
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
