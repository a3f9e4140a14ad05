/** One log method: structured details first (errors under `err`), then the message. */
export interface LogFn {
  (details: object, message?: string): void;
  (message: string): void;
}

/**
 * The structured logger the core and adapters write to; `src/logging` implements it on pino. Adapters add a
 * child with their platform and a request id. Whatever is logged under `err` goes through one serialiser that
 * scrubs every configured secret, so callers log errors as they are.
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}
