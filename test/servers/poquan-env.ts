import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let folder: string | undefined;

/**
 * An empty folder to run a Poquan process in, instead of the repository, whose `.env` (the developer's own,
 * with real keys) the CLI would load from its working folder. One per test file, removed by test/setup.ts.
 */
export function cleanCwd(): string {
  folder ??= mkdtempSync(join(tmpdir(), 'poquan-cwd-'));
  return folder;
}

/** Removes the folder of `cleanCwd()`, if this test file made one. */
export function removeCleanCwd(): void {
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = undefined;
}

/**
 * The whole environment of a Poquan process a test starts: PATH, HOME and exactly `settings`, nothing else of
 * the developer's environment. The process runs outside the repository, so a relative KNOWLEDGE_DIR is made
 * absolute against the repository and an unset one points at the shipped knowledge.
 */
export function poquanEnv(settings: Record<string, string> = {}): Record<string, string> {
  const knowledgeDir = settings.KNOWLEDGE_DIR ?? 'knowledge';
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    ...settings,
    KNOWLEDGE_DIR: isAbsolute(knowledgeDir) ? knowledgeDir : resolve(root, knowledgeDir),
  };
}
