import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { GlossaryEntry } from '../core/glossary.ts';
import { parseGlossaryTable } from '../core/glossary.ts';
import { knowledgeFileNames, readKnowledgeText } from '../core/knowledge.ts';
import { containsCjk } from '../core/tokenize.ts';
import { topicFromFrontMatter } from '../core/topic.ts';
import {
  findGlossaryGaps,
  type GlossaryGap,
  mostlyChinese,
  type NumberedParagraph,
  wordUsesOf,
} from './glossary-gaps.ts';

/** One thing wrong with a knowledge file, at a line when it has one. */
export interface KnowledgeProblem {
  file: string;
  line?: number;
  message: string;
}

/** The front-matter fields Poquan reads; any other key is most likely a typo. */
const knownKeys = new Set([
  'title',
  'source',
  'publication',
  'date',
  'note',
  'language',
  'url',
  'topic',
  'topic_zh',
]);
const glossaryHeading = /glossary|术语/i;
/** Paragraphs shorter than this ("See below.") may repeat harmlessly. */
const minDuplicateChars = 40;
const htmlMarkup =
  /<\/?(?:div|span|p|br|html|body|head|script|style|table|tr|td|article|section)\b[^>]*>|&nbsp;/i;

/** What one file holds, with the lines things are on. */
export interface ScannedFile {
  file: string;
  problems: KnowledgeProblem[];
  paragraphs: NumberedParagraph[];
  glossary: GlossaryEntry[];
  chinese: boolean;
}

/** `file:line: message`, or `file: message` for a problem of the whole file. */
export function formatProblem(problem: KnowledgeProblem): string {
  return `${problem.file}${problem.line ? `:${problem.line}` : ''}: ${problem.message}`;
}

/** Why a front-matter date is wrong, or undefined: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real day, not after today. */
export function describeBadDate(value: unknown, today: string): string | undefined {
  const text = value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(text);
  if (!match) return `date "${text}" is not YYYY-MM-DD, YYYY-MM or YYYY`;
  const [, year, month, day] = match;
  if (month && (Number(month) < 1 || Number(month) > 12)) return `date "${text}" has no month ${month}`;
  if (day) {
    const parsed = new Date(`${text}T00:00:00Z`);
    if (Number.isNaN(parsed.getTime()) || parsed.getUTCDate() !== Number(day))
      return `date "${text}" is not a day of the calendar`;
  }
  if (text > today.slice(0, text.length)) return `date "${text}" is in the future`;
  return year ? undefined : `date "${text}" is not a date`;
}

function checkFrontMatter(
  file: string,
  lines: string[],
  today: string,
): { problems: KnowledgeProblem[]; bodyStart: number; chinese: boolean; dated: boolean } {
  const problems: KnowledgeProblem[] = [];
  const at = (line: number | undefined, message: string) => problems.push({ file, line, message });
  if (lines[0]?.trim() !== '---') {
    at(1, 'has no front matter: start the file with ---, then title: and date:, then ---');
    return { problems, bodyStart: 0, chinese: false, dated: true };
  }
  const end = lines.findIndex((line, index) => index > 0 && line.trim() === '---');
  if (end === -1) {
    at(1, 'front matter is not closed by a --- line');
    return { problems, bodyStart: 0, chinese: false, dated: true };
  }
  let meta: unknown;
  try {
    meta = parseYaml(lines.slice(1, end).join('\n'));
  } catch (error) {
    const line = (error as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    at(
      line === undefined ? 1 : line + 1,
      `front matter is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
    return { problems, bodyStart: end + 1, chinese: false, dated: true };
  }
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) {
    at(2, 'front matter is not a list of key: value lines');
    return { problems, bodyStart: end + 1, chinese: false, dated: true };
  }
  const record = meta as Record<string, unknown>;
  const lineOf = (key: string) => {
    const index = lines.slice(1, end).findIndex((line) => line.startsWith(`${key}:`));
    return index === -1 ? 1 : index + 2;
  };
  for (const key of Object.keys(record)) {
    if (!knownKeys.has(key))
      at(lineOf(key), `front matter has the unknown key "${key}" (${[...knownKeys].join(', ')})`);
  }
  if (typeof record.title !== 'string' || !record.title.trim()) at(1, 'front matter has no title');
  const dated = record.date !== undefined && record.date !== null;
  if (dated) {
    const bad = describeBadDate(record.date, today);
    if (bad) at(lineOf('date'), bad);
  }
  const topic = topicFromFrontMatter(record);
  if (topic && 'problem' in topic) at(lineOf('topic'), `front matter ${topic.problem}`);
  return { problems, bodyStart: end + 1, chinese: record.language === 'zh', dated };
}

/** Checks one glossary table: header, separator, same cells in each row, a term in each language. */
function checkGlossaryRows(file: string, rows: Array<{ text: string; line: number }>): KnowledgeProblem[] {
  const problems: KnowledgeProblem[] = [];
  const cellsOf = (row: string) =>
    row
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim());
  const [header, separator, ...body] = rows;
  if (!header) return problems;
  const width = cellsOf(header.text).length;
  if (width < 2)
    problems.push({ file, line: header.line, message: 'glossary table needs two columns: 中文 | English' });
  if (!separator || !cellsOf(separator.text).every((cell) => /^:?-+:?$/.test(cell))) {
    problems.push({
      file,
      line: separator?.line ?? header.line,
      message: 'glossary table has no | --- | --- | row under its header',
    });
  }
  for (const { text, line } of body) {
    const cells = cellsOf(text);
    const [chinese = '', english = ''] = cells;
    const problem =
      cells.length !== width
        ? `glossary row has ${cells.length} cells, the header ${width}`
        : !chinese || !english
          ? 'glossary row needs a term in both the 中文 and the English column'
          : [chinese, english].some((cell) => cell.split(/[/／]/).some((term) => !term.trim()))
            ? 'glossary row has an empty term between slashes'
            : !containsCjk(chinese) && chinese !== english
              ? 'glossary row has no Chinese in the 中文 column (to keep a name as it is, write it in both columns)'
              : undefined;
    if (problem) problems.push({ file, line, message: problem });
  }
  return problems;
}

/** Reads one file's paragraphs and glossary rows with their lines, checking what can be checked in the file alone. */
export function scanKnowledgeFile(file: string, bytes: Uint8Array, today: string): ScannedFile {
  const scanned: ScannedFile = { file, problems: [], paragraphs: [], glossary: [], chinese: false };
  const read = readKnowledgeText(bytes);
  if ('problem' in read) {
    scanned.problems.push({ file, message: read.problem });
    return scanned;
  }
  if (!read.text.trim()) {
    scanned.problems.push({ file, message: 'is empty' });
    return scanned;
  }
  const lines = read.text.split(/\r?\n/);
  const front = checkFrontMatter(file, lines, today);
  scanned.problems.push(...front.problems);
  scanned.chinese = front.chinese;
  let inGlossary = false;
  let table: Array<{ text: string; line: number }> = [];
  let paragraph: { text: string[]; line: number } | undefined;
  let markupReported = false;
  const flush = () => {
    if (table.length) {
      scanned.problems.push(...checkGlossaryRows(file, table));
      scanned.glossary.push(...parseGlossaryTable(table.map((row) => row.text).join('\n')));
    }
    table = [];
    if (paragraph) scanned.paragraphs.push({ text: paragraph.text.join(' '), line: paragraph.line });
    paragraph = undefined;
  };
  lines.slice(front.bodyStart).forEach((text, index) => {
    const line = front.bodyStart + index + 1;
    const heading = /^#{1,6}\s+(.+)$/.exec(text);
    if (heading || !text.trim()) {
      flush();
      if (heading) inGlossary = glossaryHeading.test(heading[1] as string);
      return;
    }
    if (!markupReported && htmlMarkup.test(text)) {
      markupReported = true;
      scanned.problems.push({
        file,
        line,
        message: 'holds HTML markup: add the saved page with `poquan knowledge add PAGE.html`',
      });
    }
    if (inGlossary && text.trim().startsWith('|')) table.push({ text, line });
    else if (!inGlossary) {
      paragraph ??= { text: [], line };
      paragraph.text.push(text.trim());
    }
  });
  flush();
  if (scanned.paragraphs.length === 0 && scanned.glossary.length === 0)
    scanned.problems.push({ file, message: 'has no text to answer from' });
  // A file of glossary rows alone states no facts, so it has nothing to date.
  if (scanned.paragraphs.length > 0 && !front.dated)
    scanned.problems.push({
      file,
      line: 1,
      message: 'front matter has no date: add date: YYYY-MM-DD, when its facts were current',
    });
  scanned.chinese ||= mostlyChinese(scanned.paragraphs.map((p) => p.text).join(' '));
  return scanned;
}

function normalizeParagraph(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The glossary gaps of one scanned file against the whole knowledge's glossary, as problems. */
export function gapProblems(file: string, gaps: GlossaryGap[]): KnowledgeProblem[] {
  return gaps.map((gap) => ({
    file,
    line: gap.line,
    message: `${gap.kind} "${gap.term}" has no Chinese rendering in the glossary`,
  }));
}

/** Every knowledge file of a directory, scanned, with the glossary of them all. */
export async function scanKnowledgeDir(
  dir: string,
  today: string,
): Promise<{ files: ScannedFile[]; glossary: GlossaryEntry[] }> {
  const names = await knowledgeFileNames(dir);
  const files: ScannedFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    files.push(scanKnowledgeFile(path, await readFile(path), today));
  }
  const glossary = files.flatMap((file) => file.glossary);
  return { files, glossary };
}

/**
 * Checks every `.md` and `.txt` file of a knowledge directory: text that is not text (binary, invalid UTF-8,
 * control characters, HTML markup), front matter (present, valid YAML, known keys, a title, a real date that is not
 * in the future, a topic in both languages), glossary table format, paragraphs repeated within or across files, and
 * names and figures of English text that no glossary row renders in Chinese. Returns every problem, in file order.
 */
export async function checkKnowledgeDir(dir: string, today: string): Promise<KnowledgeProblem[]> {
  const { files, glossary } = await scanKnowledgeDir(dir, today);
  const uses = wordUsesOf(
    files.flatMap((file) => file.paragraphs.map((paragraph) => paragraph.text)),
    glossary,
  );
  if (files.length === 0) return [{ file: dir, message: 'has no .md or .txt knowledge files' }];
  const problems: KnowledgeProblem[] = [];
  const seen = new Map<string, { file: string; line: number }>();
  for (const file of files) {
    problems.push(...file.problems);
    for (const paragraph of file.paragraphs) {
      const key = normalizeParagraph(paragraph.text);
      if (key.length < minDuplicateChars) continue;
      const first = seen.get(key);
      if (first) {
        problems.push({
          file: file.file,
          line: paragraph.line,
          message: `repeats the passage at ${first.file}:${first.line}`,
        });
      } else {
        seen.set(key, { file: file.file, line: paragraph.line });
      }
    }
    if (!file.chinese)
      problems.push(...gapProblems(file.file, findGlossaryGaps(file.paragraphs, glossary, uses)));
  }
  return problems;
}
