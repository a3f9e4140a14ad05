import { containsCjk } from './tokenize.ts';

/** Terms that mean the same thing in either language, e.g. `['深度求索', 'DeepSeek']`. */
export interface GlossaryEntry {
  terms: string[];
}

/**
 * Reads a Markdown table whose first two columns hold Chinese and English terms (several per cell,
 * separated by `/`); further columns are notes. Header and separator rows are skipped.
 */
export function parseGlossaryTable(markdown: string): GlossaryEntry[] {
  const entries: GlossaryEntry[] = [];
  const rows = markdown.split(/\r?\n/).filter((line) => line.trim().startsWith('|'));
  for (const row of rows.slice(1)) {
    const cells = row
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim());
    if (cells.every((cell) => /^:?-*:?$/.test(cell))) continue;
    const terms = cells
      .slice(0, 2)
      .flatMap((cell) => cell.split(/\s*[/／]\s*/))
      .map((term) => term.replace(/[*`]/g, '').trim())
      .filter(Boolean);
    if (terms.length > 1) entries.push({ terms });
  }
  return entries;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Precompiled glossary lookups, built once per knowledge version. */
export type GlossaryMatcher = (query: string) => string[];

/**
 * Returns a function giving the glossary terms a query should be expanded with: for each entry the query
 * mentions (CJK terms by substring, Latin terms as whole words, case-insensitively), all its other terms.
 * This is what lets "梁文锋是谁？" find English passages about Liang Wenfeng.
 */
export function createGlossaryMatcher(entries: GlossaryEntry[]): GlossaryMatcher {
  const compiled = entries.map((entry) => ({
    terms: entry.terms,
    patterns: entry.terms.map((term) =>
      containsCjk(term)
        ? new RegExp(escapeRegExp(term), 'iu')
        : new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(term)}(?![\\p{L}\\p{N}])`, 'iu'),
    ),
  }));
  const match: GlossaryMatcher = (query) => {
    const normalized = query.normalize('NFKC');
    const expansions: string[] = [];
    for (const { terms, patterns } of compiled) {
      const hit = patterns.findIndex((pattern) => pattern.test(normalized));
      if (hit === -1) continue;
      expansions.push(...terms.filter((_, index) => index !== hit && !patterns[index]?.test(normalized)));
    }
    return expansions;
  };
  // V8 compiles each of the few hundred patterns lazily on first use, which cost ~50 ms on each of the first
  // two questions after a start or reload (BENCHMARKS.md, section 4); pay it here, once, instead.
  match('');
  match('');
  return match;
}
