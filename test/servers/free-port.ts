import { createServer } from 'node:net';

/**
 * A loopback port the OS has just handed out and nothing listens on now: bound on 127.0.0.1 port 0, then closed.
 * For a process that must be told its port before it starts, and for an address where a connection is refused
 * (unlike port 1, which `fetch` rejects as a "bad port" before it connects at all).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
