import { once } from 'node:events';
import WebSocket from 'ws';

/** What a Poquan process holds after a full garbage collection. */
export interface ProcessMemory {
  heapUsedBytes: number;
  rssBytes: number;
}

/** The inspector URL a process started with `--inspect=127.0.0.1:0` printed, if it has yet. */
export function inspectorUrl(lines: string[]): string | undefined {
  for (const line of lines) {
    const url = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
    if (url) return url;
  }
  return undefined;
}

/**
 * Measures another process's memory through its inspector (the Chrome DevTools protocol): a full garbage
 * collection, then `process.memoryUsage()`, as the in-process soak measured itself. The session is closed at
 * once, so the process never waits for a debugger when it exits. Rejects if the process goes away meanwhile or
 * does not answer within `timeoutMs`.
 */
export async function measureMemory(url: string, timeoutMs = 10_000): Promise<ProcessMemory> {
  const socket = new WebSocket(url);
  const timer = setTimeout(() => socket.terminate(), timeoutMs);
  try {
    await once(socket, 'open');
    let nextId = 0;
    const call = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const id = ++nextId;
        const onMessage = (data: WebSocket.RawData) => {
          const reply = JSON.parse(String(data)) as {
            id?: number;
            result?: Record<string, unknown>;
            error?: { message: string };
          };
          if (reply.id !== id) return;
          socket.off('message', onMessage);
          socket.off('close', onClose);
          if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
          else resolve(reply.result ?? {});
        };
        const onClose = () => reject(new Error(`the process closed its inspector during ${method}`));
        socket.on('message', onMessage);
        socket.once('close', onClose);
        socket.send(JSON.stringify({ id, method, params }));
      });
    await call('HeapProfiler.collectGarbage');
    const evaluated = await call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const usage = JSON.parse(String((evaluated.result as { value: unknown }).value)) as NodeJS.MemoryUsage;
    return { heapUsedBytes: usage.heapUsed, rssBytes: usage.rss };
  } finally {
    clearTimeout(timer);
    socket.terminate();
  }
}
