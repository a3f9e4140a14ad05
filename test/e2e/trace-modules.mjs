// Preload for tests, `node --import ./trace-modules.mjs …`: appends the URL of every module the program
// loads to the file named in TRACE_MODULES, so a test can state what a command loads and what it doesn't.
// Plain JavaScript because it runs before any TypeScript loader could, and must itself need none.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const out = process.env.TRACE_MODULES;

/** Module hook (Node runs it in its hooks thread): records each `import`, static or dynamic. */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(out, `${resolved.url}\n`);
  return resolved;
}

if (isMainThread) {
  register(import.meta.url);
  // `require()` bypasses the hook; whatever it loaded is in the CommonJS cache when the process exits.
  const { cache } = createRequire(import.meta.url);
  process.on('exit', () => {
    appendFileSync(
      out,
      Object.keys(cache)
        .map((file) => `file://${file}\n`)
        .join(''),
    );
  });
}
