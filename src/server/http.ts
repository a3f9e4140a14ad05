import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KnowledgeBase } from '../core/knowledge.ts';
import type { Logger } from '../core/logger.ts';
import type { PrometheusMetrics } from '../metrics/prometheus-metrics.ts';

/** One thing that must work for this instance to take traffic; `check` throws (or rejects) with why not. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** An extra route, e.g. the Telegram webhook; the handler owns the response. */
export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  handler(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}

export interface HttpServerOptions {
  port: number;
  host?: string;
  /** What the built-in routes read: the knowledge (`/readyz`, `/healthz`), the store's health, the counters. */
  services: {
    knowledge(): KnowledgeBase;
    pingStore(): Promise<void>;
    metrics: Pick<PrometheusMetrics, 'registry'>;
  };
  /** Checks beyond the built-in store and knowledge checks, e.g. "Telegram is polling". */
  checks?: ReadinessCheck[];
  routes?: HttpRoute[];
  logger: Logger;
}

/** A listening server; `close` stops accepting and ends keep-alive connections. */
export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const checkTimeoutMs = 1500;

function withTimeout(check: ReadinessCheck): Promise<{ name: string; ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${checkTimeoutMs} ms`)), checkTimeoutMs);
  });
  return Promise.race([check.check(), timeout])
    .then(() => ({ name: check.name, ok: true }))
    .catch((error: unknown) => ({
      name: check.name,
      ok: false,
      error: (error as Error).message ?? String(error),
    }))
    .finally(() => clearTimeout(timer));
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

/**
 * The operations endpoint: `GET /healthz` (the process is up), `GET /readyz` (store reachable, knowledge
 * loaded, every enabled platform connected — 503 with the failing checks otherwise), `GET /metrics`
 * (Prometheus text format), plus routes such as the Telegram webhook.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { services, logger } = options;
  const checks: ReadinessCheck[] = [
    { name: 'store', check: () => services.pingStore() },
    {
      name: 'knowledge',
      check: async () => {
        if (services.knowledge().passages.length === 0) throw new Error('no passages loaded');
      },
    },
    ...(options.checks ?? []),
  ];
  const routes = new Map((options.routes ?? []).map((route) => [`${route.method} ${route.path}`, route]));

  const server = createServer(async (request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    try {
      const route = routes.get(`${request.method} ${path}`);
      if (route) return await route.handler(request, response);
      if (request.method === 'GET' && path === '/healthz') return sendJson(response, 200, { status: 'ok' });
      if (request.method === 'GET' && path === '/readyz') {
        const results = await Promise.all(checks.map(withTimeout));
        const ready = results.every((result) => result.ok);
        return sendJson(response, ready ? 200 : 503, {
          status: ready ? 'ready' : 'not ready',
          knowledgeVersion: services.knowledge().version,
          checks: results,
        });
      }
      if (request.method === 'GET' && path === '/metrics') {
        const body = await services.metrics.registry.metrics();
        response.writeHead(200, { 'content-type': services.metrics.registry.contentType });
        return response.end(body);
      }
      sendJson(response, 404, { error: 'not found' });
    } catch (error) {
      logger.error({ err: error, path }, 'http handler failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, 'http server listening');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
