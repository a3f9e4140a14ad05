import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A real redis-server (Debian's package) on a free 127.0.0.1 port, for tests of shared state. */
export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server; `start()` brings it back on the same port, empty. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server without persistence; fails with a clear message when it is not installed. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
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
