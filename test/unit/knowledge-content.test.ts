import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// The shipped knowledge file must keep every figure, name and quote of the article it was written from. The
// article is not republished in this repository: its facts were extracted once into a fixture the check reads.
const articleFacts = JSON.parse(
  readFileSync(new URL('../fixtures/article-facts.json', import.meta.url), 'utf8'),
) as { numbers: string[]; names: string[]; quotes: string[] };

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

/** True when `number` occurs on its own, not as part of a larger number ("11" does not match "S$11"). */
function containsNumber(text: string, number: string): boolean {
  const before = /^\d/.test(number) ? '(?<![\\d$.,])' : '(?<![\\p{L}\\d$.,])';
  return new RegExp(`${before}${escapeRegExp(number)}(?!\\d|[.,]\\d)`, 'u').test(text);
}

/** The article's facts that `text` lacks: numbers on their own, names as written, quotes verbatim in quotes. */
function missingFacts(text: string) {
  const quoted = normalizeQuotes(text);
  return {
    numbers: articleFacts.numbers.filter((number) => !containsNumber(text, number)),
    names: articleFacts.names.filter((name) => !text.includes(name)),
    quotes: articleFacts.quotes.filter((quote) => !quoted.includes(`"${quote}`)),
  };
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
  it("checks the article's headline figures, names and quotes", () => {
    expect(articleFacts.numbers).toEqual(
      expect.arrayContaining(['60', 'S$11', 'US$184', 'S$249', '9,600', '2030']),
    );
    expect(articleFacts.names).toEqual(
      expect.arrayContaining([
        'Liang Wenfeng',
        'J.S. Tan',
        '01.ai',
        'Hong Kong University of Science and Technology',
      ]),
    );
    expect(articleFacts.quotes.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps every number, proper name and attributed quote of the article', () => {
    expect(missingFacts(prose)).toEqual({ numbers: [], names: [], quotes: [] });
  });

  it('notices a figure, a name or a quote that an edit drops', () => {
    const [quote = ''] = articleFacts.quotes;
    const edited = normalizeQuotes(prose)
      .replaceAll('US$184', 'about US$200')
      .replaceAll('StepFun', 'a rival')
      .replaceAll(quote, quote.replace(/ \S+$/, ''));
    expect(missingFacts(edited)).toEqual({ numbers: ['US$184'], names: ['StepFun'], quotes: [quote] });
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
