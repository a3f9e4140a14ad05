/*
 * How an endpoint and a failed connection to it are named in an operator's one-line error: never a credential,
 * whichever adapter, command or check reports it.
 */

/** A URL as far as it says where: without user, password, query or fragment, any of which may hold a secret. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][\w+.-]*:\/\/)[^/?#]*@/i, '$1').replace(/[?#].*$/, '');
}

const socketFailures: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/**
 * Why no connection was made, by the socket's error code deepest in the causes, e.g. "connection refused
 * (ECONNREFUSED)". Messages are left out: fetch's quote the whole URL, credentials and all.
 */
export function describeConnectionFailure(error: Error): string {
  let code: unknown;
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    code = (at as { code?: unknown }).code ?? code;
  }
  if (typeof code !== 'string') return 'no connection';
  return `${socketFailures[code] ?? 'no connection'} (${code})`;
}
