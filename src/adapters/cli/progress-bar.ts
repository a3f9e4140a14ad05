import { SingleBar } from 'cli-progress';

/** What a long CLI job reports while `withProgressBar` runs it: one step done. */
export interface Progress {
  increment(): void;
}

/**
 * Runs `work` under a progress bar of `total` steps, `label [====] value/total`, drawn on `stream` only when it
 * is a terminal and `show` is true. The bar hides the cursor while it draws and is stopped however `work` ends,
 * so a job that throws never leaves the terminal without its cursor.
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
  bar.start(options.total, 0);
  try {
    return await work({ increment: () => bar.increment() });
  } finally {
    bar.stop();
  }
}
