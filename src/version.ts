import { existsSync, readFileSync } from 'node:fs';

/**
 * The nearest package.json above this module: the repository's when the code runs from `src/` (tsx, tests),
 * `dist/package.json` (written by the build with the same version) when it runs compiled from `dist/src/`.
 */
function readOwnPackage(): { version: string } {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
    if (dir.pathname === '/') throw new Error(`No package.json above ${import.meta.url}`);
  }
}

/** Poquan's own version, shown by `/about` and `--version`. Light to import: the CLI reads it before anything else. */
export const poquanVersion: string = readOwnPackage().version;
