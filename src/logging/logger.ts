import { pino } from 'pino';

/** Keys whose values are never written to a log, wherever they appear. */
const redactedPaths = [
  'apiKey',
  'token',
  'authorization',
  '*.apiKey',
  '*.token',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * JSON logs to stderr (stdout stays free for answers and `--json` output), with secrets redacted by key.
 * Tests pass a stream to read the lines back.
 */
export function createLogger(level: string, destination: number | pino.DestinationStream = 2): pino.Logger {
  return pino(
    { level, redact: { paths: redactedPaths, censor: '[redacted]' } },
    typeof destination === 'number' ? pino.destination(destination) : destination,
  );
}
