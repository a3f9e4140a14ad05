// Writes dist/package.json after `tsc -p tsconfig.build.json`, so the compiled files resolve the `#core/*`
// imports the repository's package.json maps to TypeScript sources: the same targets, as the .js files tsc
// emitted (dist/ mirrors the repository's layout). It also carries the version `src/version.ts` reads.
// Plain JavaScript: it runs in the Docker build and in `npm install` (the `prepare` script) with no loader.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const own = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const imports = Object.fromEntries(
  Object.entries(own.imports ?? {}).map(([alias, target]) => [alias, String(target).replace(/\.ts$/, '.js')]),
);
const compiled = { name: own.name, version: own.version, private: true, type: own.type, imports };
writeFileSync(new URL('dist/package.json', root), `${JSON.stringify(compiled, null, 2)}\n`);
