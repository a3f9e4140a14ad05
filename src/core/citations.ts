import type { Citation } from './answer-events.ts';
import type { ScoredPassage } from './retriever.ts';

/** The passage numbers an answer cites, in order of first mention: `[1]`, `[1][2]`, `[1, 3]`, `【2】`. */
export function citedNumbers(text: string): number[] {
  const numbers: number[] = [];
  for (const match of text.matchAll(/[[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]/g)) {
    for (const part of (match[1] as string).split(/[,，、]/)) {
      const n = Number(part.trim());
      if (!numbers.includes(n)) numbers.push(n);
    }
  }
  return numbers;
}

/** The citation entry for the n-th passage (1-based), as shown in source lists. */
export function citationFor(passages: ScoredPassage[], n: number): Citation | undefined {
  const passage = passages[n - 1]?.passage;
  return passage && { n, id: passage.id, source: passage.source, heading: passage.heading };
}

/**
 * The sources behind an answer: the passages it cites, or — when a model answered without citing — the
 * passages numbered `uncited` (default: all it was given), so an answer never goes out without sources.
 */
export function collectCitations(
  text: string,
  passages: ScoredPassage[],
  uncited: number[] = passages.map((_, index) => index + 1),
): Citation[] {
  const cited = citedNumbers(text)
    .map((n) => citationFor(passages, n))
    .filter((citation) => citation !== undefined);
  if (cited.length > 0) return cited.sort((a, b) => a.n - b.n);
  return uncited.map((n) => citationFor(passages, n)).filter((citation) => citation !== undefined);
}
