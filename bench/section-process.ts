/**
 * Runs one benchmark section in a process of its own and sends its result to `bench/run.ts` over IPC, so no
 * section measures memory, garbage collection or event-loop delay left behind by another.
 *
 *   (started by bench/run.ts)  node --import tsx bench/section-process.ts <section> [--quick]
 */
import type { SectionResult } from './report.ts';
import { sections } from './sections.ts';

/** What the child sends back: the result, or why the section failed. */
export type SectionMessage = { ok: true; result: SectionResult } | { ok: false; error: string };

const [name, ...flags] = process.argv.slice(2);
const section = sections.find((candidate) => candidate.name === name);
const send = (message: SectionMessage) =>
  new Promise<void>((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else resolve();
  });
try {
  if (!section) throw new Error(`unknown section "${name}"`);
  const measure = await section.load();
  const result = await measure({
    quick: flags.includes('--quick'),
    progress: (line) => process.stderr.write(`  [${section.name}] ${line}\n`),
  });
  await send({ ok: true, result });
  // A handle a section forgot to close must not keep the whole run waiting.
  process.exit(0);
} catch (error) {
  await send({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
}
