#!/usr/bin/env node
// Runs the compiled JavaScript in dist/: `npm install` builds it in a checkout (the `prepare` script), the
// Docker build stage with `npm run build`. No TypeScript compiler runs at start, so a command starts quickly.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'poquan: dist/ is missing; run `npm run build` (npm install runs it in a checkout).\n',
  );
  process.exit(1);
}
await import(main.href);
