import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';

/** When one model request reached the fake model and when the fake finished its response (after `[DONE]`). */
export interface ModelRequestTiming {
  startedAt: number;
  finishedAt?: number;
}

/** The model requests seen since `watchModelRequests`, in arrival order; `stop` unsubscribes. */
export interface ModelTimings {
  requests: ModelRequestTiming[];
  stop(): void;
}

const completionPath = /\/chat\/completions$/;

/**
 * Times every chat-completion request an in-process HTTP server answers, through Node's built-in HTTP
 * diagnostics channels, so the fake model itself needs no timing hooks and adds no extra hop: `startedAt`
 * when its headers arrive, `finishedAt` when the response has been handed to the socket. Timestamps are
 * `performance.now()`, like the fake platforms' recorded calls.
 * See Node 20's `diagnostics_channel` documentation, section "HTTP".
 */
export function watchModelRequests(): ModelTimings {
  const requests: ModelRequestTiming[] = [];
  const byRequest = new WeakMap<IncomingMessage, ModelRequestTiming>();
  const onStart = (message: unknown) => {
    const { request } = message as { request: IncomingMessage };
    if (!completionPath.test(request.url ?? '')) return;
    const timing: ModelRequestTiming = { startedAt: performance.now() };
    byRequest.set(request, timing);
    requests.push(timing);
  };
  const onFinish = (message: unknown) => {
    const timing = byRequest.get((message as { request: IncomingMessage }).request);
    if (timing) timing.finishedAt = performance.now();
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return {
    requests,
    stop() {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    },
  };
}
