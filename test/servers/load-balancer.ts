import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A round-robin HTTP load balancer on loopback, as operators put in front of several webhook instances. */
export interface LoadBalancer {
  /** Where clients (the fake Telegram) send requests: `http://127.0.0.1:<port>`. */
  url: string;
  /** Backend base URLs (`http://127.0.0.1:<port>`); add them once the instances listen. */
  backends: string[];
  /** The backend index each request went to, in order. */
  forwarded: number[];
  close(): Promise<void>;
}

/**
 * Starts the balancer on a free port. Each request goes to the next backend in turn, with its method, path,
 * headers and body; the backend's status and body come back unchanged. An unreachable backend answers 502, as
 * a proxy does, and the next request goes to the next backend.
 */
export async function startLoadBalancer(): Promise<LoadBalancer> {
  const backends: string[] = [];
  const forwarded: number[] = [];
  let next = 0;
  const server = createServer((incoming, outgoing) => {
    if (backends.length === 0) {
      outgoing.writeHead(503).end();
      return;
    }
    const index = next % backends.length;
    next += 1;
    forwarded.push(index);
    const target = new URL(incoming.url ?? '/', backends[index]);
    const upstream = forward(
      target,
      { method: incoming.method, headers: { ...incoming.headers, host: target.host } },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    backends,
    forwarded,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
