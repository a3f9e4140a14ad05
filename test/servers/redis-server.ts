import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.ts';

/**
 * What the tests that need Redis do on this machine: run against the `redis-server` found on PATH; without one,
 * skip with `reason` on a developer's machine, or fail the run with `reason` under CI (whose script installs it).
 */
export type RedisTestsPlan = { kind: 'run'; binary: string } | { kind: 'skip' | 'fail'; reason: string };

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Decides from `PATH` and `CI` (set and not "false" or "0" means a CI run) whether Redis tests run. */
export function planRedisTests(env: { PATH?: string; CI?: string }): RedisTestsPlan {
  const binary = (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'redis-server'))
    .find(isExecutableFile);
  if (binary) return { kind: 'run', binary };
  const ci = Boolean(env.CI) && !['false', '0'].includes(env.CI?.toLowerCase() ?? '');
  return ci
    ? {
        kind: 'fail',
        reason: `CI=${env.CI} but redis-server is not on the PATH: install it (apt-get install redis-server; .ci/run does) so the Redis tests run`,
      }
    : {
        kind: 'skip',
        reason:
          'redis-server is not on the PATH, so the tests that need Redis are skipped: install it (apt-get install redis-server, brew install redis) to run them',
      };
}

/** This machine's plan; `describe.skipIf(withoutRedis)` wraps every test that starts a redis-server. */
export const redisTests = planRedisTests(process.env);
export const withoutRedis = redisTests.kind === 'skip';

/** A real redis-server (Debian's package) on a free 127.0.0.1 port, for tests of shared state. */
export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server; `start()` brings it back on the same port, empty. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Starts redis-server without persistence; fails with a clear message when it is not installed. With `password`
 * the server requires it (`requirepass`); `url` does not carry it.
 */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          ...(options.password === undefined ? [] : ['--requirepass', options.password]),
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child = proc;
      let output = '';
      proc.on('error', (error) =>
        reject(
          new Error(
            `redis-server could not start (${error.message}); install it: apt-get install redis-server`,
          ),
        ),
      );
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      proc.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
    });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: () =>
      new Promise((resolve) => {
        // A killed process keeps exitCode null and sets signalCode instead.
        if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
