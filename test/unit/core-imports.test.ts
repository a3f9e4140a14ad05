import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `src/core` owns the domain and the ports; the SDK-backed implementations live outside it (src/store,
 * src/llm, src/metrics, src/logging, src/search). biome's noRestrictedImports says so at lint time; this
 * test reads the files themselves, so a dynamic `import()` or `require()` cannot slip past either.
 */
const core = new URL('../../src/core/', import.meta.url).pathname;
const infrastructure = /^(openai|keyv|@keyv\/.+|@redis\/.+|redis|libsql|prom-client|pino|minisearch)(\/.*)?$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every module specifier a file names: static imports and re-exports, `import()` and `require()`. */
function specifiersOf(source: string): string[] {
  const found = source.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm,
  );
  return [...found].map((match) => match[1] as string);
}

describe('src/core', () => {
  it('finds the specifiers however a module is loaded', () => {
    expect(
      specifiersOf(
        "import a from 'pino';\nexport { b } from \"keyv\";\nawait import('openai');\nrequire('prom-client');\nimport 'minisearch';",
      ),
    ).toEqual(['pino', 'keyv', 'openai', 'prom-client', 'minisearch']);
  });

  it('imports no infrastructure package: the core depends on its own ports only', () => {
    const offending = sourceFiles(core).flatMap((file) => {
      const name = relative(core, file);
      return specifiersOf(readFileSync(file, 'utf8'))
        .filter((specifier) => infrastructure.test(specifier))
        .map((specifier) => `${name} imports ${specifier}`);
    });
    expect(offending).toEqual([]);
  });
});
