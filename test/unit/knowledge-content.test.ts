import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// The shipped knowledge file must keep every figure, name and quote of the article it was written from.
// The article is not republished in this repository; it lives in the shared workspace beside the project
// root (../shared), where every checkout and CI run has it. Missing, the test fails rather than skips.
const articleUrl = new URL('../../../shared/knowledge-source/china-ai-race-article.txt', import.meta.url);
const article = existsSync(articleUrl) ? readFileSync(articleUrl, 'utf8') : '';

const knowledge = readFileSync(new URL('../../knowledge/china-ai-race.md', import.meta.url), 'utf8');
const qaLines = readFileSync(new URL('../../test/fixtures/qa.jsonl', import.meta.url), 'utf8')
  .split(/\r?\n/)
  .filter((line) => line.trim());

const frontMatter = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(knowledge);
const body = knowledge.slice(frontMatter?.[0].length ?? 0);
const glossaryStart = body.search(/^## Glossary/m);
/** Everything outside front matter and glossary: the text that is indexed and retrieved. */
const prose = glossaryStart === -1 ? body : body.slice(0, glossaryStart);
const glossary = glossaryStart === -1 ? '' : body.slice(glossaryStart);

function normalizeQuotes(text: string): string {
  return text.replace(/[“”]/g, '"').replace(/[‘’]/g, "'");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Numbers as written, with a currency prefix when there is one: 2030, 9,600, US$184, S$11. */
function extractNumbers(text: string): string[] {
  return [...new Set(text.match(/(?:US\$|S\$)?\d+(?:,\d{3})*(?:\.\d+)?/g) ?? [])];
}

/** True when `number` occurs on its own, not as part of a larger number ("11" does not match "S$11"). */
function containsNumber(text: string, number: string): boolean {
  const before = /^\d/.test(number) ? '(?<![\\d$.,])' : '(?<![\\p{L}\\d$.,])';
  return new RegExp(`${before}${escapeRegExp(number)}(?!\\d|[.,]\\d)`, 'u').test(text);
}

// Capitalised words that are common words (sentence starts, the article's sub-headings, adjectives), not names.
const commonCapitalised = new Set([
  'A',
  'According',
  'Additionally',
  'Can',
  'Challenging',
  'Chinese',
  'Competitive',
  'Competitors',
  'Currently',
  'During',
  'Each',
  'He',
  'However',
  'In',
  'Instead',
  'It',
  'Landscape',
  'Mr',
  'Nonetheless',
  'Norm',
  'Numerous',
  'Our',
  'She',
  'Since',
  'The',
  'These',
  'This',
  'Users',
  'When',
]);
const connectors = new Set(['of', 'and', 'for']);

/** Runs of capitalised words ("Hong Kong University of Science and Technology"), plus "J.S. Tan" and "01.ai". */
function extractNames(text: string): string[] {
  const word = '[A-Z][\\p{L}\\p{N}]*(?:-[\\p{L}\\p{N}]+)*';
  const run = new RegExp(`${word}(?: (?:(?:of|and|for) )?${word})*`, 'gu');
  const names = new Set<string>();
  for (const match of text.matchAll(run)) {
    let current: string[] = [];
    const flush = () => {
      while (current.length && connectors.has(current.at(-1) as string)) current.pop();
      while (current.length && connectors.has(current[0] as string)) current.shift();
      const name = current.join(' ');
      if (name.length > 1) names.add(name);
      current = [];
    };
    for (const token of match[0].split(' ')) {
      // "and" joins words inside one name ("Science and Technology") but otherwise separates two names.
      if (commonCapitalised.has(token) || (token === 'and' && !current.includes('of'))) flush();
      else current.push(token);
    }
    flush();
  }
  for (const match of text.matchAll(/(?:[A-Z]\.){2,} ?[A-Z][a-z]+|\b\d+\.[a-z]{2,}\b/g)) names.add(match[0]);
  return [...names];
}

/** Text inside curly double quotes longer than 30 characters, without trailing punctuation. */
function extractQuotes(text: string): string[] {
  return [...text.matchAll(/“([^”]+)”/g)]
    .map((match) => (match[1] as string).trim().replace(/[,.;:]+$/, ''))
    .filter((quote) => quote.length > 30);
}

function tableCells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());
}

function splitTerms(cell: string): string[] {
  return cell
    .split(/\s*[/／]\s*/)
    .map((term) => term.trim())
    .filter(Boolean);
}

const hasCjk = (text: string) => /\p{Script=Han}/u.test(text);

describe('knowledge file keeps the source article', () => {
  it('reads the source article from ../shared/knowledge-source', () => {
    expect(article.length).toBeGreaterThan(1000);
  });

  it('keeps every number of the article as written', () => {
    const numbers = extractNumbers(article);
    expect(numbers).toEqual(expect.arrayContaining(['60', 'S$11', 'US$184', 'S$249', '9,600', '2030']));
    const missing = numbers.filter((number) => !containsNumber(prose, number));
    expect(missing, `numbers missing from the knowledge file: ${missing.join(', ')}`).toEqual([]);
  });

  it('keeps every proper name of the article', () => {
    const names = extractNames(article);
    expect(names).toEqual(
      expect.arrayContaining([
        'Liang Wenfeng',
        'J.S. Tan',
        '01.ai',
        'Hong Kong University of Science and Technology',
      ]),
    );
    const missing = names.filter((name) => !prose.includes(name));
    expect(missing, `names missing from the knowledge file: ${missing.join(', ')}`).toEqual([]);
  });

  it('keeps every attributed quote verbatim', () => {
    const quotes = extractQuotes(normalizeQuotes(article).replace(/"([^"]+)"/g, '“$1”'));
    expect(quotes.length).toBeGreaterThanOrEqual(2);
    const text = normalizeQuotes(prose);
    const missing = quotes.filter((quote) => !text.includes(`"${quote}`));
    expect(missing, `quotes missing from the knowledge file: ${missing.join(' | ')}`).toEqual([]);
  });
});

describe('knowledge file structure', () => {
  it('has front matter with title, source and date', () => {
    expect(frontMatter).not.toBeNull();
    const meta = parseYaml(frontMatter?.[1] ?? '') as Record<string, unknown>;
    for (const key of ['title', 'source', 'date']) expect(meta[key], key).toBeTruthy();
  });

  it('has the six topic sections in order, then the glossary', () => {
    const headings = [...body.matchAll(/^## (.+)$/gm)].map((match) => match[1] as string);
    const expected = [
      /DeepSeek craze.*Chinese New Year/i,
      /DeepSeek and its Chinese rivals/i,
      /competitive landscape.*state funding/i,
      /six little tigers/i,
      /founder and independence/i,
      /success be replicated/i,
      /^Glossary · 术语表$/,
    ];
    expect(headings).toHaveLength(expected.length);
    expected.forEach((pattern, index) => {
      expect(headings[index]).toMatch(pattern);
    });
  });

  it('keeps every paragraph outside the glossary under 600 characters', () => {
    const paragraphs = prose
      .split(/\r?\n\s*\r?\n/)
      .map((paragraph) => paragraph.trim())
      .filter((paragraph) => paragraph && !paragraph.startsWith('#'));
    expect(paragraphs.length).toBeGreaterThan(20);
    const tooLong = paragraphs.filter((paragraph) => paragraph.length > 600);
    expect(tooLong, tooLong.map((paragraph) => paragraph.slice(0, 60)).join('\n')).toEqual([]);
  });

  it('has one glossary table whose rows each give a Chinese and an English term', () => {
    const lines = glossary.split(/\r?\n/);
    const tableLines = lines.filter((line) => line.trim().startsWith('|'));
    const first = lines.findIndex((line) => line.trim().startsWith('|'));
    expect(lines.slice(first, first + tableLines.length)).toEqual(tableLines);
    expect(tableCells(tableLines[0] ?? '')).toEqual(['中文', 'English', 'Notes']);
    const rows = tableLines.slice(2).map(tableCells);
    expect(rows.length).toBeGreaterThanOrEqual(45);
    const bad = rows.filter(
      ([chinese = '', english = '']) =>
        !splitTerms(chinese).some(hasCjk) || !splitTerms(english).some((term) => /[A-Za-z0-9]/.test(term)),
    );
    expect(bad.map((row) => row.join(' | '))).toEqual([]);
  });

  it('gives every glossary row an English term the prose uses, so query expansion reaches a passage', () => {
    // Other English terms in a row are the words askers use instead ("aim" for the prose's "goal").
    const spellingVariants = new Set(['data centers']);
    const lowerProse = prose.toLowerCase();
    const unreachable = glossary
      .split(/\r?\n/)
      .filter((line) => line.trim().startsWith('|'))
      .slice(2)
      .map((row) => splitTerms(tableCells(row)[1] ?? ''))
      .filter((terms) =>
        terms.every((term) => spellingVariants.has(term) || !lowerProse.includes(term.toLowerCase())),
      )
      .map((terms) => terms.join(' / '));
    expect(unreachable, `glossary rows with no term in the prose: ${unreachable.join(', ')}`).toEqual([]);
  });
});

describe('QA fixture', () => {
  const cases = qaLines.map(
    (line) => JSON.parse(line) as { q: string; lang: string; expect_any?: string[]; out_of_scope?: boolean },
  );

  it('has enough questions in both languages, in and out of scope', () => {
    expect(cases.length).toBeGreaterThanOrEqual(36);
    const inScope = cases.filter((qa) => !qa.out_of_scope);
    const outOfScope = cases.filter((qa) => qa.out_of_scope === true);
    expect(inScope.filter((qa) => qa.lang === 'en').length).toBeGreaterThanOrEqual(15);
    expect(inScope.filter((qa) => qa.lang === 'zh').length).toBeGreaterThanOrEqual(10);
    expect(outOfScope.length).toBeGreaterThanOrEqual(6);
    expect(new Set(outOfScope.map((qa) => qa.lang))).toEqual(new Set(['en', 'zh']));
    for (const qa of cases)
      expect(Boolean(qa.out_of_scope) !== Boolean(qa.expect_any?.length), qa.q).toBe(true);
  });

  it('expects only facts the knowledge prose contains', () => {
    const lowerProse = prose.toLowerCase();
    const missing = cases.flatMap((qa) =>
      (qa.expect_any ?? [])
        .filter((fact) => !lowerProse.includes(fact.toLowerCase()))
        .map((fact) => `${qa.q} → ${fact}`),
    );
    expect(missing, `expect_any strings not in the knowledge file:\n${missing.join('\n')}`).toEqual([]);
  });
});
