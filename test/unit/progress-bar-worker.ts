import { Writable } from 'node:stream';
import { withProgressBar } from '../../src/adapters/cli/progress-bar.ts';

/**
 * A job under a progress bar, as a process of its own for `progress-bar.test.ts`: the bar draws on stdout posing
 * as a terminal (it draws on nothing else), `drawing` on stderr says it is up, then the job waits for a signal
 * (`node … wait`) or exits the process mid-job (`node … exit`).
 */
const terminal = Object.assign(
  new Writable({
    write(chunk, _encoding, done) {
      process.stdout.write(chunk);
      done();
    },
  }),
  { isTTY: true, columns: 80 },
);

await withProgressBar({ stream: terminal, label: 'evaluating', total: 3, show: true }, async (progress) => {
  progress.increment();
  process.stderr.write('drawing\n');
  if (process.argv[2] === 'exit') process.exit(0);
  await new Promise(() => setInterval(() => {}, 60_000));
});
