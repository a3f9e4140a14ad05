import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { InputError } from '../core/errors.ts';
import { type SuggestedRow, suggestGlossaryRows, type TermToRender } from '../core/glossary-suggestion.ts';
import type { LlmClient } from '../core/llm.ts';
import { scanKnowledgeDir, scanKnowledgeFile } from './check-knowledge.ts';
import { findGlossaryGaps, wordUsesOf } from './glossary-gaps.ts';

/** Where the suggestions for `file` go: next to the knowledge, under a name the loader never reads. */
export function suggestionsPath(dir: string, file: string): string {
  return join(dir, `${basename(file, extname(file))}.glossary.md.suggested`);
}

/** The name a reviewed suggestions file is renamed to, to go live. */
export function acceptedPath(suggestions: string): string {
  return suggestions.replace(/\.suggested$/, '');
}

/** The result of one `glossary --suggest` run. */
export interface GlossarySuggestions {
  /** Names and figures of the file that no glossary row renders in Chinese. */
  gaps: TermToRender[];
  rows: SuggestedRow[];
  /** Set when rows were written. */
  path?: string;
}

function renderSuggestionsFile(file: string, rows: SuggestedRow[], model: string, today: string): string {
  const front = stringifyYaml(
    {
      title: `Glossary for ${basename(file)}`,
      note: `Suggested by the model ${model} on ${today} (poquan knowledge glossary --suggest). NOT LIVE until reviewed: correct or delete each row, then rename this file to end in .md.`,
    },
    { lineWidth: 0 },
  ).trimEnd();
  const cell = (text: string) => text.replace(/\|/g, '/');
  const table = rows.map(
    (row) =>
      `| ${cell(row.chinese)} | ${cell(row.english)} | ${cell(row.note ? `${row.note}; ` : '')}suggested, review |`,
  );
  return `---\n${front}\n---\n\n## Glossary · 术语表\n\n| 中文 | English | Notes |\n| --- | --- | --- |\n${table.join('\n')}\n`;
}

/**
 * Finds the names and figures in `file` that the knowledge directory's glossary lacks, asks the model for their
 * Chinese renderings, and writes them to `suggestionsPath(dir, file)`: a glossary file for review that the
 * loader ignores until it is renamed to end in `.md`. Asks nothing when nothing is missing.
 */
export async function suggestGlossary(
  file: string,
  dir: string,
  options: { llm: LlmClient | undefined; timeoutMs: number; today: string },
): Promise<GlossarySuggestions> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InputError(`${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const scanned = scanKnowledgeFile(file, bytes, options.today);
  const unreadable = scanned.problems.find((problem) => problem.line === undefined);
  if (unreadable) throw new InputError(`${file} ${unreadable.message}`);
  const knowledge = await scanKnowledgeDir(dir, options.today);
  const inDir = knowledge.files.some((other) => resolve(other.file) === resolve(file));
  const glossary = inDir ? knowledge.glossary : [...knowledge.glossary, ...scanned.glossary];
  const texts = [...knowledge.files, ...(inDir ? [] : [scanned])].flatMap((f) =>
    f.paragraphs.map((p) => p.text),
  );
  const gaps = findGlossaryGaps(scanned.paragraphs, glossary, wordUsesOf(texts, glossary)).map((gap) => ({
    term: gap.term,
    kind: gap.kind,
    context: scanned.paragraphs.find((paragraph) => paragraph.line === gap.line)?.text.slice(0, 300) ?? '',
  }));
  if (gaps.length === 0) return { gaps, rows: [] };
  if (!options.llm) {
    throw new InputError(
      `${gaps.length} names and figures need a Chinese rendering, and suggesting them needs a model: set LLM_API_KEY (or LLM_BASE_URL)`,
    );
  }
  const rows = await suggestGlossaryRows(options.llm, gaps, options.timeoutMs);
  if (rows.length === 0) return { gaps, rows };
  const path = suggestionsPath(dir, file);
  await writeFile(path, renderSuggestionsFile(file, rows, options.llm.model, options.today), 'utf8');
  return { gaps, rows, path };
}
