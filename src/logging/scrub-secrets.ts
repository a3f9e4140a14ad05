/**
 * Credentials recognised by their shape, scrubbed even when the logger was not given their value: a token
 * passed to an adapter directly, or one from another bot that appears in an error.
 */
const credentialShapes: Array<[RegExp, string]> = [
  // Telegram bot tokens, in the request URLs grammY builds (`/bot<id>:<secret>/method`) and on their own.
  [/\bbot\d+:[\w-]+/g, 'bot[redacted]'],
  [/\b\d{5,}:[\w-]{30,}/g, '[redacted]'],
  // Discord interaction and webhook tokens, which sit in REST paths.
  [/(\/(?:webhooks|interactions)\/\d+)\/[^/\s?]+/g, '$1/[token]'],
  // Authorization header values.
  [/\b(Bearer|Bot)\s+[\w.~+/-]+=*/g, '$1 [redacted]'],
  // Passwords in URLs, such as redis://:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s/]+@/gi, '$1[redacted]@'],
];

/** Shorter values would match ordinary words; no real secret is that short. */
const minimumSecretLength = 6;

/**
 * A function that removes `secrets` (the configured values, as written and URL-encoded) and anything shaped
 * like a platform credential from a text.
 */
export function createScrubber(secrets: Iterable<string | undefined>): (text: string) => string {
  const values = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < minimumSecretLength) continue;
    values.add(secret);
    values.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is removed whole.
  const ordered = [...values].sort((a, b) => b.length - a.length);
  return (text) => {
    let scrubbed = text;
    for (const value of ordered) scrubbed = scrubbed.replaceAll(value, '[redacted]');
    for (const [shape, replacement] of credentialShapes) scrubbed = scrubbed.replace(shape, replacement);
    return scrubbed;
  };
}
