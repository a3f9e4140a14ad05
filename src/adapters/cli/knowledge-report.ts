import { join } from 'node:path';
import type { PreparedKnowledgeFile } from '../../knowledge-tools/add-knowledge.ts';
import type { TerminalStyle } from './render.ts';

/** What `poquan knowledge add` made of one file: where it went, its metadata, then every passage in full. */
export function renderAddedFile(file: PreparedKnowledgeFile, dir: string, style: TerminalStyle): string {
  const about = [file.publication, file.date, file.url].filter(Boolean).join(', ');
  const lines = [
    `${style.bold(`Added ${join(dir, file.name)}`)}: "${file.title}"${about ? ` (${about})` : ''}`,
    `${file.passages.length} passage${file.passages.length === 1 ? '' : 's'}:`,
  ];
  for (const passage of file.passages) {
    lines.push(`  ${style.dim(`[${passage.id}]`)} ${passage.headingPath.join(' › ')}`);
    for (const line of passage.text.split('\n')) lines.push(`    ${line}`);
  }
  if (!file.date) {
    lines.push(
      style.dim(
        `No date found: add "date: YYYY-MM-DD" to its front matter, so answers can say what the facts are current as of.`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
