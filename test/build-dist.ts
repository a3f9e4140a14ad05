import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const buildInfo = join(root, 'dist', '.tsbuildinfo');
const inputs = ['src', 'commands', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/**
 * Vitest global setup. Tests that spawn `bin/poquan.js` run the compiled `dist/`, so it is rebuilt before any
 * test whenever a source changed since the last build: a test never runs a stale build, even in a single-file
 * run (`npx vitest run test/e2e/cli.test.ts`).
 */
export default function buildDist(): void {
  const builtAt = existsSync(buildInfo) ? statSync(buildInfo).mtimeMs : 0;
  if (Math.max(...inputs.map((input) => newestChange(join(root, input)))) < builtAt) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/write-dist-package.mjs'], { cwd: root, stdio: 'inherit' });
  // tsc leaves its build info untouched when no output changed (e.g. a file only saved again).
  const now = new Date();
  utimesSync(buildInfo, now, now);
}
