import { withoutCredentials } from '../../logging/connection-failure.ts';

/** An error as the logger serialises it under `err` (see `serializeError`). */
interface LoggedError {
  type?: string;
  message?: string;
  cause?: LoggedError;
}

/** The part of a log line (one JSON object, secrets already scrubbed) that a terminal line is made from. */
interface LogRecord {
  level?: number;
  msg?: string;
  err?: LoggedError;
}

/** pino's level numbers: 50 and up are errors. */
const errorLevel = 50;

/**
 * The log of a CLI command run without LOG_LEVEL, as a pino destination: each record (a JSON line) becomes
 * one plain line on `err`, `poquan: warning: what happened (why)`, with no JSON and no stack. A store that
 * cannot be used fails every store operation of the run, each logged; the first says so once, naming
 * STORE_URL (without its password), and the rest say nothing more. Setting LOG_LEVEL keeps the JSON log.
 */
export function createTerminalLog(
  err: { write(text: string): unknown },
  storeUrl: string,
): { write(line: string): void } {
  let storeFailureTold = false;
  return {
    write(line) {
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        err.write(line);
        return;
      }
      if (record.err && hasType(record.err, 'StoreError')) {
        if (storeFailureTold) return;
        storeFailureTold = true;
        err.write(
          `poquan: warning: STORE_URL (${withoutCredentials(storeUrl)}) cannot be used (${innermost(record.err).message}); answering without conversation memory, answer cache or limits.\n`,
        );
        return;
      }
      const label = (record.level ?? 0) >= errorLevel ? 'error' : 'warning';
      const why = record.err ? ` (${innermost(record.err).message})` : '';
      err.write(`poquan: ${label}: ${record.msg ?? 'no message'}${why}\n`);
    },
  };
}

function hasType(error: LoggedError, type: string): boolean {
  for (let at: LoggedError | undefined = error; at; at = at.cause) if (at.type === type) return true;
  return false;
}

/** The deepest cause the log kept: the backend's own words (e.g. Redis's "The client is offline"). */
function innermost(error: LoggedError): LoggedError {
  let at = error;
  while (at.cause) at = at.cause;
  return at;
}
