import { isIP, Socket } from 'node:net';

/**
 * Tests talk to fakes on 127.0.0.1 only. This guard makes every TCP connection a test process opens go through
 * one check — `net.Socket.prototype.connect`, which `net.connect`, `tls.connect`, `http.request` and undici
 * (`fetch`, and with it the OpenAI SDK) all end in — and refuses any host that is not loopback, before a DNS
 * lookup or a packet is sent. A refused connection throws where it is opened and is also recorded, so a caller
 * that swallows the error still fails its test file (see test/setup.ts).
 */

const refused: string[] = [];

/** True for `localhost`, 127.0.0.0/8 and ::1 (also IPv4-mapped and bracketed): the hosts a test may reach. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost') return true;
  const ipv4 = name.replace(/^::ffff:/, '');
  if (isIP(ipv4) === 4) return ipv4.startsWith('127.');
  return isIP(name) === 6 && /^(0{0,4}:){2,7}0{0,3}1$/.test(name);
}

/** The host `Socket#connect` was called for (undefined for a Unix socket), from any of its argument forms. */
function hostOf(args: unknown[]): string | undefined {
  // net.connect passes its already normalized arguments as one array: [options, callback].
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') {
    const options = first as { host?: string; path?: string };
    return options.path ? undefined : (options.host ?? 'localhost');
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return undefined;
  return typeof args[1] === 'string' ? args[1] : 'localhost';
}

let installed = false;

/** Wraps `Socket#connect` for this process; calling it again does nothing. */
export function installLoopbackGuard(): void {
  if (installed) return;
  installed = true;
  const connect = Socket.prototype.connect;
  Socket.prototype.connect = function guardedConnect(this: Socket, ...args: unknown[]) {
    const host = hostOf(args);
    if (host !== undefined && !isLoopbackHost(host)) {
      const message = `Test tried to connect to ${host}, which is not loopback: tests reach fakes on 127.0.0.1 only`;
      refused.push(message);
      throw new Error(message);
    }
    return (connect as (...rest: unknown[]) => Socket).apply(this, args);
  } as typeof Socket.prototype.connect;
}

/** The connections refused since the last call, emptied by reading them. */
export function takeRefusedConnections(): string[] {
  return refused.splice(0);
}
