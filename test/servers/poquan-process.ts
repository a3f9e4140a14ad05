import { type ChildProcess, spawn } from 'node:child_process';
import { poquanEnv } from './poquan-env.ts';

const bin = new URL('../../bin/poquan.js', import.meta.url).pathname;

/** `poquan start` running as a real process, with its output captured line by line. */
export interface PoquanProcess {
  child: ChildProcess;
  /** Every line written to stdout and stderr (logs are JSON lines on stderr). */
  lines: string[];
  /** The JSON log lines, parsed. */
  logs(): Array<Record<string, unknown> & { msg?: string; level?: number }>;
  /** Resolves once a log line satisfies `check`; rejects after `timeoutMs` or if the process exits first. */
  waitForLog(check: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once an output line (a plain one too, e.g. "Poquan started: …") contains `text`; rejects likewise. */
  waitForLine(text: string, timeoutMs?: number): Promise<void>;
  /**
   * Resolves with the exit code (null when a signal killed it) once the process has ended and all its output has
   * been read into `lines`.
   */
  exited: Promise<number | null>;
  /** Sends `signal` and resolves as `exited` does. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node bin/poquan.js start [options]` in `cwd` with exactly `env` (see `poquanEnv`): no inherited settings, and
 * no `.env` unless the test writes one into `cwd`.
 */
export function startPoquanProcess(
  env: Record<string, string>,
  cwd: string,
  options: string[] = [],
): PoquanProcess {
  const child = spawn(process.execPath, [bin, 'start', ...options], {
    cwd,
    env: poquanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
      for (const watcher of [...watchers]) watcher();
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  // 'close', not 'exit': the pipes may still hold the last lines when the process has exited.
  let closed = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      closed = true;
      resolve(code);
    }),
  );
  const logs = () =>
    lines.flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  /** Resolves once `found()` holds, tried after every chunk of output; rejects after `timeoutMs` or at exit. */
  const waitUntil = (found: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const attempt = () => {
        if (!found()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`poquan: no ${what} within ${timeoutMs} ms:\n${lines.join('\n')}`));
      }, timeoutMs);
      const onExit = () => {
        done();
        reject(new Error(`poquan exited before the ${what}:\n${lines.join('\n')}`));
      };
      const done = () => {
        clearTimeout(timer);
        watchers.delete(attempt);
        child.off('close', onExit);
      };
      watchers.add(attempt);
      child.once('close', onExit);
      attempt();
      if (closed) onExit();
    });
  return {
    child,
    lines,
    logs,
    exited,
    waitForLog: (check, timeoutMs = 15_000) =>
      waitUntil(() => logs().some(check), 'matching log line', timeoutMs),
    waitForLine: (text, timeoutMs = 15_000) =>
      waitUntil(
        () => lines.some((line) => line.includes(text)),
        `line containing ${JSON.stringify(text)}`,
        timeoutMs,
      ),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** What a finished `poquan` command printed, and how it exited. */
export interface PoquanRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/poquan.js …args` to the end in `cwd` with exactly `env` (see `poquanEnv`) and `stdin` as its
 * input: the CLI as a user runs it, without the developer's settings or `.env`.
 */
export function runPoquan(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  stdin = '',
): Promise<PoquanRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: poquanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
