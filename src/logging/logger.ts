import { pino } from 'pino';
import { createScrubber } from './scrub-secrets.ts';
import { scrubPayload, serializeError } from './serialize-error.ts';

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
 * JSON logs to stderr (stdout stays free for answers and `--json` output). `secrets` (see `secretsOf`) and
 * anything shaped like a platform credential are scrubbed from every line: the message, the payload, the
 * child bindings, and errors, which are logged under `err` through one serialiser (`serializeError`) however
 * they were passed. Keys such as `token` are redacted whatever they hold. Tests pass a stream to read the
 * lines back.
 */
export function createLogger(
  level: string,
  destination: number | pino.DestinationStream = 2,
  secrets: Iterable<string | undefined> = [],
): pino.Logger {
  const scrub = createScrubber(secrets);
  const logger = pino(
    {
      level,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      serializers: {
        err: (error: unknown) =>
          error instanceof Error ? serializeError(error, scrub) : scrubPayload(error, scrub),
      },
      formatters: {
        // Runs before the serializers: everything but `err`, which is the serializer's.
        log: ({ err, ...payload }) => {
          const scrubbed = scrubPayload(payload, scrub) as Record<string, unknown>;
          return err === undefined ? scrubbed : { ...scrubbed, err };
        },
      },
      hooks: {
        logMethod(args, method) {
          // pino takes the message of an error logged alone from the error, after this hook: give it here.
          const [first, ...rest] = args as unknown[];
          const withMessage =
            first instanceof Error && typeof rest[0] !== 'string' ? [{ err: first }, first.message] : args;
          const scrubbed = withMessage.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    typeof destination === 'number' ? pino.destination(destination) : destination,
  );
  // pino's bindings formatter covers the root's bindings only; children inherit this `child`, so theirs pass here.
  const createChild = logger.child;
  logger.child = function scrubbedChild(this: pino.Logger, bindings, options) {
    return createChild.call(this, scrubPayload(bindings, scrub) as pino.Bindings, options);
  } as typeof logger.child;
  return logger;
}
