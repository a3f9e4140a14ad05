import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.ts';
import { type GlossaryEntry, parseGlossaryTable } from './glossary.ts';
import { splitSentences } from './sentences.ts';
import { type Topic, topicFromFrontMatter } from './topic.ts';

/** One retrievable piece of a knowledge file, small enough to quote and cite on its own. */
export interface Passage {
  /** Stable across restarts while the file's headings and paragraphs keep their order: `file#section-n`. */
  id: string;
  /** File name inside the knowledge directory. */
  source: string;
  /** The nearest heading; `headingPath` holds the full path from the top-level heading down. */
  heading: string;
  headingPath: string[];
  text: string;
  /** The file's front-matter `date` (e.g. `2025-02`): what the passage's facts are current as of. */
  date?: string;
}

/** What a knowledge file says about itself in its front matter. */
export interface KnowledgeFileInfo {
  source: string;
  title: string;
  publication?: string;
  date?: string;
  /** The front matter's `topic`/`topic_zh`: what the bot answers questions about. */
  topic?: Topic;
  passageCount: number;
}

/** Everything loaded from the knowledge directory; `version` changes whenever any file's content does. */
export interface KnowledgeBase {
  passages: Passage[];
  glossary: GlossaryEntry[];
  files: KnowledgeFileInfo[];
  /** The topic of the first file (in name order) that declares one. */
  topic?: Topic;
  version: string;
}

/** Passages above this size are split at sentence boundaries; smaller paragraphs merge up to it. */
export const maxPassageChars = 700;
const mergeBelowChars = 220;
const glossaryHeading = /glossary|术语/i;

function slugify(heading: string): string {
  const slug = heading
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, 60) || 'section';
}

/** The YAML front matter between `---` lines at the top (empty when there is none) and the text after it. */
export function splitFrontMatter(content: string): { meta: Record<string, unknown>; body: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(content);
  if (!match) return { meta: {}, body: content };
  const meta = parseYaml(match[1] ?? '') as unknown;
  return {
    meta: meta && typeof meta === 'object' ? (meta as Record<string, unknown>) : {},
    body: content.slice(match[0].length),
  };
}

/** Splits an over-long paragraph into chunks of whole sentences (Latin or CJK punctuation). */
function splitLongParagraph(paragraph: string): string[] {
  const sentences = splitSentences(paragraph);
  const chunks: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (current && current.length + sentence.length > maxPassageChars) {
      chunks.push(current.trim());
      current = '';
    }
    // A single sentence longer than the limit is cut hard; no content is dropped.
    let rest = sentence;
    while (rest.length > maxPassageChars) {
      chunks.push(rest.slice(0, maxPassageChars).trim());
      rest = rest.slice(maxPassageChars);
    }
    current += rest;
  }
  if (current.trim()) chunks.push(current.trim());
  return chunks;
}

/** Groups a section's paragraphs into passages: short ones merge, long ones split. */
function chunkParagraphs(paragraphs: string[]): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const paragraph of paragraphs.flatMap((p) =>
    p.length > maxPassageChars ? splitLongParagraph(p) : [p],
  )) {
    if (
      current &&
      (current.length >= mergeBelowChars || current.length + paragraph.length + 2 > maxPassageChars)
    ) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n\n${paragraph}` : paragraph;
  }
  if (current) chunks.push(current);
  return chunks;
}

interface Section {
  headingPath: string[];
  paragraphs: string[];
}

function splitSections(body: string, fallbackTitle: string): Section[] {
  const sections: Section[] = [];
  let path: string[] = [];
  let current: Section = { headingPath: [fallbackTitle], paragraphs: [] };
  let paragraph: string[] = [];
  const flushParagraph = () => {
    const text = paragraph.join('\n').trim();
    if (text) current.paragraphs.push(text);
    paragraph = [];
  };
  for (const line of body.split(/\r?\n/)) {
    const heading = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      flushParagraph();
      if (current.paragraphs.length) sections.push(current);
      const level = (heading[1] as string).length;
      path = [...path.slice(0, level - 1), heading[2] as string];
      current = { headingPath: path.filter(Boolean), paragraphs: [] };
    } else if (line.trim() === '') {
      flushParagraph();
    } else {
      paragraph.push(line);
    }
  }
  flushParagraph();
  if (current.paragraphs.length) sections.push(current);
  return sections;
}

/** YAML reads `date: 2025-02-05` as a Date and `date: '2025-02'` as text; both become `YYYY-MM[-DD]` text. */
function frontMatterDate(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
}

/**
 * Turns one file's text into passages and glossary entries. Glossary sections (a heading containing
 * "Glossary" or "术语") feed query expansion and are not indexed as passages: a table of names is
 * not an answer to anything.
 */
export function parseKnowledgeFile(
  source: string,
  content: string,
): { info: KnowledgeFileInfo; passages: Passage[]; glossary: GlossaryEntry[] } {
  const { meta, body } = splitFrontMatter(content);
  const stem = basename(source, extname(source));
  const title = typeof meta.title === 'string' ? meta.title : stem;
  const passages: Passage[] = [];
  const glossary: GlossaryEntry[] = [];
  const usedSlugs = new Map<string, number>();
  const date = frontMatterDate(meta.date);
  for (const section of splitSections(body, title)) {
    const heading = section.headingPath.at(-1) ?? title;
    if (glossaryHeading.test(heading)) {
      glossary.push(...parseGlossaryTable(section.paragraphs.join('\n')));
      continue;
    }
    const baseSlug = slugify(heading);
    const seen = usedSlugs.get(baseSlug) ?? 0;
    usedSlugs.set(baseSlug, seen + 1);
    const slug = seen === 0 ? baseSlug : `${baseSlug}-${seen + 1}`;
    chunkParagraphs(section.paragraphs).forEach((text, index) => {
      passages.push({
        id: `${stem}#${slug}-${index + 1}`,
        source,
        heading,
        headingPath: section.headingPath,
        text,
        ...(date ? { date } : {}),
      });
    });
  }
  const info: KnowledgeFileInfo = { source, title, passageCount: passages.length };
  const publication = meta.source ?? meta.publication;
  if (typeof publication === 'string') info.publication = publication;
  if (date) info.date = date;
  const topic = topicFromFrontMatter(meta);
  if (topic && 'problem' in topic) throw new Error(topic.problem);
  if (topic) info.topic = topic;
  return { info, passages, glossary };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a knowledge file, or why it is not text: invalid UTF-8, NUL or other control characters (a binary
 * file, a truncated download), replacement characters from an earlier bad conversion. Knowledge that is not text
 * would index junk and answer "not covered" to every question, so it is refused whole.
 */
export function readKnowledgeText(bytes: Uint8Array): { text: string } | { problem: string } {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { problem: 'is not valid UTF-8 text (a binary file?)' };
  }
  const problem = describeNonText(text);
  return problem ? { problem } : { text: text.replace(/^\uFEFF/, '') };
}

/**
 * Why decoded text is not text, or undefined when it is: NUL or other control characters (a binary file), or
 * replacement characters from an earlier bad conversion. The problem names the line it starts on.
 */
export function describeNonText(text: string): string | undefined {
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const control = /[^\P{Cc}\t\n\r\f]/u.exec(text);
  if (control) {
    const code = control[0].codePointAt(0)?.toString(16).padStart(4, '0');
    return `contains the control character U+${code} on line ${lineAt(control.index)} (a binary file?)`;
  }
  const replacement = text.indexOf('\uFFFD');
  if (replacement !== -1)
    return `contains U+FFFD replacement characters from line ${lineAt(replacement)} (a broken conversion?)`;
  return undefined;
}

/**
 * The knowledge files of `dir` (`.md` and `.txt`, links included), in name order: the order they load in. An
 * unreadable directory fails with a `ConfigError` naming `KNOWLEDGE_DIR`.
 */
export async function knowledgeFileNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.(md|txt)$/i.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new ConfigError(
      `KNOWLEDGE_DIR: cannot read directory "${dir}" (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
}

/**
 * Loads every `.md` and `.txt` file in `dir`. A missing directory, an unreadable file, a file that is not text
 * (see `readKnowledgeText`) or one with neither passages nor glossary rows fails with a `ConfigError` naming it,
 * so an operator knows which file to fix; nothing of such a load goes live. A file of glossary rows alone (an
 * accepted `poquan knowledge glossary --suggest` file) is fine.
 */
export async function loadKnowledge(dir: string): Promise<KnowledgeBase> {
  const names = await knowledgeFileNames(dir);
  if (names.length === 0) throw new ConfigError(`KNOWLEDGE_DIR: no .md or .txt files in "${dir}"`);

  const hash = createHash('sha256');
  const base: KnowledgeBase = { passages: [], glossary: [], files: [], version: '' };
  for (const name of names) {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new ConfigError(
        `Knowledge file "${path}" cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    const read = readKnowledgeText(bytes);
    if ('problem' in read) throw new ConfigError(`Knowledge file "${path}" ${read.problem}`);
    const content = read.text;
    let parsed: ReturnType<typeof parseKnowledgeFile>;
    try {
      parsed = parseKnowledgeFile(name, content);
    } catch (error) {
      throw new ConfigError(`Knowledge file "${path}" is malformed: ${(error as Error).message}`);
    }
    if (parsed.passages.length === 0 && parsed.glossary.length === 0)
      throw new ConfigError(`Knowledge file "${path}" has no text to answer from`);
    hash.update(name).update('\0').update(content).update('\0');
    base.passages.push(...parsed.passages);
    base.glossary.push(...parsed.glossary);
    base.files.push(parsed.info);
    base.topic ??= parsed.info.topic;
  }
  if (base.passages.length === 0)
    throw new ConfigError(`KNOWLEDGE_DIR: no file in "${dir}" has text to answer from, only glossary rows`);
  base.version = hash.digest('hex').slice(0, 12);
  return base;
}
