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
  /** Resolves with the exit code once the process ends by itself (null when a signal killed it). */
  exited: Promise<number | null>;
  /** Sends `signal` and resolves with the exit code (null when killed by the signal). */
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
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () =>
    lines.flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    lines,
    logs,
    exited,
    waitForLog(check, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const attempt = () => {
          if (!logs().some(check)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`poquan: no matching log line within ${timeoutMs} ms:\n${lines.join('\n')}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(new Error(`poquan exited before the expected log line:\n${lines.join('\n')}`));
        };
        const done = () => {
          clearTimeout(timer);
          watchers.delete(attempt);
          child.off('exit', onExit);
        };
        watchers.add(attempt);
        child.once('exit', onExit);
        attempt();
      });
    },
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
