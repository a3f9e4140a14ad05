import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { InputError } from '../core/errors.ts';
import { type Passage, parseKnowledgeFile, readKnowledgeText, splitFrontMatter } from '../core/knowledge.ts';
import { type HtmlArticle, readHtmlArticle } from './html-article.ts';

/** Metadata given on the command line; it replaces what the file itself says. */
export interface KnowledgeOverrides {
  title?: string;
  source?: string;
  date?: string;
  url?: string;
}

/** A knowledge file ready to write: its name in the knowledge directory, its text and the passages it makes. */
export interface PreparedKnowledgeFile {
  from: string;
  name: string;
  content: string;
  passages: Passage[];
  title: string;
  publication?: string;
  date?: string;
  url?: string;
}

const addableExtensions = new Set(['.html', '.htm', '.md', '.txt']);

/** A file name from a title or file stem: lower-case letters (any script), digits and dashes, whole words, ≤ 50. */
function slugify(text: string): string {
  const slug = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= 50) return slug || 'article';
  return slug.slice(0, 51).replace(/-[^-]*$/, '') || slug.slice(0, 50);
}

/** A page's file name: the last part of its address when that is a readable slug, else its title's. */
function pageFileName(article: HtmlArticle, title: string): string {
  const last = article.url
    ? decodeURIComponent(new URL(article.url, 'https://x.invalid').pathname).split('/').filter(Boolean).at(-1)
    : undefined;
  const stem = last?.replace(/\.\w+$/, '');
  return `${stem && /^[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+$/u.test(stem) ? slugify(stem) : slugify(title)}.md`;
}

function withFrontMatter(meta: Record<string, unknown>, body: string): string {
  const defined = Object.fromEntries(Object.entries(meta).filter(([, value]) => value !== undefined));
  return `---\n${stringifyYaml(defined, { lineWidth: 0 }).trimEnd()}\n---\n\n${body.trim()}\n`;
}

function htmlToMarkdown(article: HtmlArticle): string {
  const lines = [`# ${article.title}`];
  for (const block of article.blocks) {
    lines.push('', block.type === 'heading' ? `${'#'.repeat(block.level)} ${block.text}` : block.text);
  }
  return lines.join('\n');
}

/** A plain-text file's title: its first line when that line is short and stands alone, as titles do. */
function splitTextTitle(text: string): { title?: string; body: string } {
  const match = /^\s*([^\n]{1,120})\n[ \t]*\n([\s\S]*)$/.exec(text);
  if (!match || /[.。!?！？:：]$/.test((match[1] as string).trim())) return { body: text };
  return { title: (match[1] as string).trim(), body: match[2] as string };
}

/** The text of a file to add, or why it is not an article: not text, empty, or an unsupported kind of file. */
function articleText(
  path: string,
  bytes: Uint8Array,
  overrides: KnowledgeOverrides,
  note: string,
): { name: string; content: string } | { problem: string } {
  const extension = extname(path).toLowerCase();
  const stem = basename(path, extname(path));
  if (!addableExtensions.has(extension))
    return { problem: 'is not an article Poquan can add (only .html, .htm, .md and .txt)' };
  if (extension === '.html' || extension === '.htm') {
    const article = readHtmlArticle(bytes);
    if ('problem' in article) return article;
    const title = overrides.title ?? article.title;
    const meta = {
      title,
      source: overrides.source ?? article.publication,
      date: overrides.date ?? article.date,
      url: overrides.url ?? article.url,
      language: article.language,
      note,
    };
    return {
      name: pageFileName(article, title),
      content: withFrontMatter(meta, htmlToMarkdown({ ...article, title })),
    };
  }
  const read = readKnowledgeText(bytes);
  if ('problem' in read) return read;
  if (!read.text.trim()) return { problem: 'is empty' };
  const { meta, body } = splitFrontMatter(read.text);
  if (extension === '.md') {
    const heading = /^#\s+(.+?)\s*#*\s*$/m.exec(body)?.[1];
    const title = overrides.title ?? (meta.title as string | undefined) ?? heading ?? stem;
    const merged: Record<string, unknown> = { ...meta, title, ...withoutUndefined({ ...overrides, title }) };
    if (!('note' in meta)) merged.note = note;
    return { name: `${slugify(stem)}.md`, content: withFrontMatter(merged, body) };
  }
  const { title: firstLine, body: text } = splitTextTitle(body);
  const title = overrides.title ?? (meta.title as string | undefined) ?? firstLine ?? stem;
  const merged = { ...meta, title, ...withoutUndefined({ ...overrides, title }), note };
  return { name: `${slugify(stem)}.md`, content: withFrontMatter(merged, `# ${title}\n\n${text.trim()}`) };
}

function withoutUndefined(record: KnowledgeOverrides): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >;
}

/**
 * Turns one saved file into a knowledge file: a web page (`.html`) becomes its main article text with title,
 * publication, date and address from the page's metadata; `.md` and `.txt` keep their text and get front matter.
 * Returns a problem, never a file, for what is not an article: binary, empty, or with no text to answer from.
 */
export function prepareKnowledgeFile(
  path: string,
  bytes: Uint8Array,
  options: { overrides?: KnowledgeOverrides; today: string },
): PreparedKnowledgeFile | { problem: string } {
  const note = `Added with \`poquan knowledge add\` from ${basename(path)} on ${options.today}.`;
  let made: ReturnType<typeof articleText>;
  let parsed: ReturnType<typeof parseKnowledgeFile>;
  try {
    made = articleText(path, bytes, options.overrides ?? {}, note);
    if ('problem' in made) return made;
    parsed = parseKnowledgeFile(made.name, made.content);
  } catch (error) {
    // Front matter that is not YAML, or a topic in one language only.
    return { problem: `has malformed front matter: ${(error as Error).message.split('\n')[0]}` };
  }
  if (parsed.passages.length === 0) return { problem: 'has no text to answer from' };
  const prepared: PreparedKnowledgeFile = {
    from: path,
    name: made.name,
    content: made.content,
    passages: parsed.passages,
    title: parsed.info.title,
  };
  if (parsed.info.publication) prepared.publication = parsed.info.publication;
  if (parsed.info.date) prepared.date = parsed.info.date;
  const { meta } = splitFrontMatter(made.content);
  if (typeof meta.url === 'string') prepared.url = meta.url;
  return prepared;
}

/**
 * Adds files to the knowledge directory: all of them or, when any is not an article or would overwrite a knowledge
 * file, none (an `InputError` with one line per refused file). Each file is written under a temporary name and
 * renamed, so a bot watching the directory never loads half a file.
 */
export async function addKnowledgeFiles(
  paths: string[],
  dir: string,
  options: { overrides?: KnowledgeOverrides; today: string },
): Promise<PreparedKnowledgeFile[]> {
  if (!existsSync(dir)) throw new InputError(`KNOWLEDGE_DIR: the directory "${dir}" does not exist`);
  const prepared: PreparedKnowledgeFile[] = [];
  const refused: string[] = [];
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      refused.push(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
      continue;
    }
    const file = prepareKnowledgeFile(path, bytes, options);
    if ('problem' in file) refused.push(`${path} ${file.problem}`);
    else if (existsSync(join(dir, file.name)) || prepared.some((other) => other.name === file.name))
      refused.push(`${path} would replace ${join(dir, file.name)}; remove that file first to replace it`);
    else prepared.push(file);
  }
  if (refused.length > 0) throw new InputError(refused.join('\n'));
  for (const file of prepared) {
    const temporary = join(dir, `.${file.name}.adding`);
    await writeFile(temporary, file.content, 'utf8');
    await rename(temporary, join(dir, file.name));
  }
  return prepared;
}
