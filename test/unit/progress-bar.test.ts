import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { withProgressBar } from '../../src/adapters/cli/progress-bar.ts';

const hideCursor = '\u001b[?25l';
const showCursor = '\u001b[?25h';

/** A stream that says it is an 80-column terminal and keeps everything written to it. */
function terminal(isTTY = true) {
  let written = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    }),
    { isTTY, columns: 80 },
  );
  return {
    stream,
    /** What was written, once every pending write has gone through. */
    async written(): Promise<string> {
      await new Promise((resolve) => setImmediate(resolve));
      return written;
    },
  };
}

const worker = new URL('./progress-bar-worker.ts', import.meta.url).pathname;

/**
 * Runs `progress-bar-worker.ts` in a process of its own and, once its bar is drawn, sends it `signal` (none: the
 * job exits by itself); resolves with its exit code and what the bar wrote.
 */
function runJob(
  how: 'wait' | 'exit',
  signal?: NodeJS.Signals,
): Promise<{ code: number | null; drawn: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, how], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let drawn = '';
    child.stdout.on('data', (chunk: Buffer) => {
      drawn += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (signal && chunk.toString('utf8').includes('drawing')) child.kill(signal);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, drawn }));
  });
}

describe('withProgressBar', () => {
  it('draws the steps done on a terminal and returns what the work returns, cursor shown again', async () => {
    const tty = terminal();
    const result = await withProgressBar(
      { stream: tty.stream, label: 'asking', total: 2, show: true },
      async (progress) => {
        progress.increment();
        progress.increment();
        return 'report';
      },
    );
    expect(result).toBe('report');
    const written = await tty.written();
    expect(written).toContain('asking [');
    expect(written).toContain('2/2');
    expect(written.lastIndexOf(showCursor)).toBeGreaterThan(written.lastIndexOf(hideCursor));
  });

  it('shows the cursor again when the work throws, and passes the error on', async () => {
    const tty = terminal();
    const failing = withProgressBar(
      { stream: tty.stream, label: 'asking', total: 3, show: true },
      async (progress) => {
        progress.increment();
        throw new Error('the model went away');
      },
    );
    await expect(failing).rejects.toThrow('the model went away');
    const written = await tty.written();
    expect(written).toContain(hideCursor);
    expect(written.lastIndexOf(showCursor)).toBeGreaterThan(written.lastIndexOf(hideCursor));
  });

  it('writes nothing when not shown (--json) or when the stream is not a terminal', async () => {
    for (const [tty, show] of [
      [terminal(), false],
      [terminal(false), true],
    ] as const) {
      const result = await withProgressBar(
        { stream: tty.stream, label: 'asking', total: 1, show },
        async (progress) => {
          progress.increment();
          return 1;
        },
      );
      expect(result).toBe(1);
      expect(await tty.written()).toBe('');
    }
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`shows the cursor again when the process gets ${signal} mid-job, and exits ${code}`, async () => {
      const job = await runJob('wait', signal);
      expect(job.code).toBe(code);
      expect(job.drawn).toContain('evaluating [');
      expect(job.drawn).toContain(hideCursor);
      expect(job.drawn.lastIndexOf(showCursor)).toBeGreaterThan(job.drawn.lastIndexOf(hideCursor));
    });
  }

  it('shows the cursor again when the process exits mid-job', async () => {
    const job = await runJob('exit');
    expect(job.code).toBe(0);
    expect(job.drawn).toContain(hideCursor);
    expect(job.drawn.lastIndexOf(showCursor)).toBeGreaterThan(job.drawn.lastIndexOf(hideCursor));
  });
});
