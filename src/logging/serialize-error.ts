/**
 * Fields that say what failed and carry neither user text nor credentials, by the names the libraries use:
 * grammY (`method`, `error_code`, `description`), discord.js (`code`, `status`, `method`), OpenAI (`status`,
 * `code`, `requestID`), Node and Redis (`code`, `errno`, `syscall`, `address`, `port`), and Poquan's
 * own (`kind`). Request bodies, payloads, headers and URLs are left out: they hold the question, the answer
 * and tokens.
 */
const whatFailed = [
  'code',
  'status',
  'method',
  'error_code',
  'description',
  'kind',
  'requestID',
  'errno',
  'syscall',
  'address',
  'port',
  'route',
  'global',
  'retryAfter',
] as const;

/** How many causes deep an error is followed; a longer chain is cut, not looped. */
const maxDepth = 3;

function plain(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return undefined;
}

/**
 * Turns anything thrown into a plain object fit for a log line: type, message, stack, the fields that say
 * what failed, and the cause (grammY's `HttpError` keeps it in `error`), every string scrubbed. The raw error
 * is never written, so whatever a library attaches to its errors cannot reach the log.
 */
export function serializeError(
  error: unknown,
  scrub: (text: string) => string,
  depth = 0,
): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error, message: scrub(String(error)) };
  const source = error as unknown as Record<string, unknown>;
  const serialized: Record<string, unknown> = {
    // The class, not `name`: discord.js appends the code or route to it (`DiscordAPIError[50027]`).
    type: error.constructor.name === 'Error' ? error.name : error.constructor.name,
    message: scrub(error.message),
  };
  for (const field of whatFailed) {
    const value = plain(source[field], scrub);
    if (value !== undefined) serialized[field] = value;
  }
  const parameters = source.parameters as { retry_after?: unknown } | undefined;
  if (typeof parameters?.retry_after === 'number') serialized.retry_after = parameters.retry_after;
  const options = source.options as { status?: unknown; retryAfterSeconds?: unknown } | undefined;
  if (error.name === 'LlmError' && options) {
    if (typeof options.status === 'number') serialized.status = options.status;
    if (typeof options.retryAfterSeconds === 'number')
      serialized.retryAfterSeconds = options.retryAfterSeconds;
  }
  if (error.stack) serialized.stack = scrub(error.stack);
  const cause = error.cause ?? (error.name === 'HttpError' ? source.error : undefined);
  if (cause !== undefined && depth < maxDepth) serialized.cause = serializeError(cause, scrub, depth + 1);
  if (error instanceof AggregateError && depth < maxDepth) {
    serialized.errors = error.errors.slice(0, 5).map((inner) => serializeError(inner, scrub, depth + 1));
  }
  return serialized;
}

/**
 * A copy of a log payload with every string scrubbed and every error serialised, however deep; other
 * objects (class instances) are reduced to their plain fields the same way.
 */
export function scrubPayload(value: unknown, scrub: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value instanceof Error) return serializeError(value, scrub);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((item) => scrubPayload(item, scrub, depth + 1));
  if (value instanceof Date || value instanceof URL) return scrub(String(value));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = scrubPayload(item, scrub, depth + 1);
  return copy;
}
