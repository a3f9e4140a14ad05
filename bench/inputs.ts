import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type QaCase, readQaFile } from '../src/core/evaluate.ts';
import { type KnowledgeBase, loadKnowledge } from '../src/core/knowledge.ts';
import type { ScoredPassage } from '../src/core/retriever.ts';

/** The shipped knowledge directory, resolved from this file so the bench runs from any working directory. */
export const knowledgeDir = fileURLToPath(new URL('../knowledge', import.meta.url));

/** The QA fixture every quality and token number is measured on. */
export const qaFile = fileURLToPath(new URL('../test/fixtures/qa.jsonl', import.meta.url));

/** The shipped knowledge file as the bot loads it, and the QA questions. */
export async function loadBenchInputs(): Promise<{ knowledge: KnowledgeBase; qa: QaCase[] }> {
  return { knowledge: await loadKnowledge(knowledgeDir), qa: await readQaFile(qaFile) };
}

/**
 * The "no retrieval" baseline: every knowledge file, raw (front matter, glossary table and all), as one
 * passage each, so the same prompt builder can put the whole file in front of the model.
 */
export async function loadWholeFiles(knowledge: KnowledgeBase): Promise<ScoredPassage[]> {
  return Promise.all(
    knowledge.files.map(async (file) => ({
      score: 1,
      passage: {
        id: file.source,
        source: file.source,
        heading: file.title,
        headingPath: [file.title],
        text: await readFile(join(knowledgeDir, file.source), 'utf8'),
      },
    })),
  );
}
