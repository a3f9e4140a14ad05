import { constants } from 'node:os';
import { SingleBar } from 'cli-progress';

/** What a long CLI job reports while `withProgressBar` runs it: one step done. */
export interface Progress {
  increment(): void;
}

/**
 * Runs `work` under a progress bar of `total` steps, `label [====] value/total`, drawn on `stream` only when it
 * is a terminal and `show` is true. The bar hides the cursor while it draws and is stopped however `work` ends,
 * so a job that throws never leaves the terminal without its cursor; so does a process that exits meanwhile, or is
 * interrupted (Ctrl-C, SIGINT) or terminated (SIGTERM), which then exits with the shell's code, 128 + the signal's
 * number (130 for SIGINT).
 */
export async function withProgressBar<T>(
  options: { stream: NodeJS.WritableStream; label: string; total: number; show: boolean },
  work: (progress: Progress) => Promise<T>,
): Promise<T> {
  if (!options.show) return work({ increment: () => {} });
  const bar = new SingleBar({
    format: `${options.label} [{bar}] {value}/{total}`,
    stream: options.stream,
    hideCursor: true,
  });
  // A signal's default action ends the process without running `finally`, and at exit only `exit` listeners run.
  const stop = () => bar.stop();
  const stopAndExit = (signal: 'SIGINT' | 'SIGTERM') => {
    bar.stop();
    process.exit(128 + constants.signals[signal]);
  };
  process.once('SIGINT', stopAndExit);
  process.once('SIGTERM', stopAndExit);
  process.once('exit', stop);
  bar.start(options.total, 0);
  try {
    return await work({ increment: () => bar.increment() });
  } finally {
    bar.stop();
    process.off('SIGINT', stopAndExit);
    process.off('SIGTERM', stopAndExit);
    process.off('exit', stop);
  }
}
