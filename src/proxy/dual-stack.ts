// The IPv6 twin of an IPv4 wildcard or loopback listener (0.0.0.0 → ::, 127.0.0.1 → ::1), so that
// connections the ip6tables capture rules redirect reach the proxy too. The twin hands every
// connection to the primary server; where the host has no IPv6 it is skipped (nothing listens).
import { createServer, type Server } from 'node:net';
import type { Logger } from '../core/log.js';
import type { ListenerSet } from './handover.js';

const TWINS: Record<string, string> = { '0.0.0.0': '::', '127.0.0.1': '::1' };

export function ipv6TwinOf(host: string): string | undefined {
  return TWINS[host];
}

/** Listens on the IPv6 twin of `host` at `port`; resolves with the twin, or undefined when there is none or IPv6 is unavailable. */
export async function listenIpv6Twin(listeners: ListenerSet, name: string, primary: Server, host: string, port: number, log: Logger, pauseOnConnect = false): Promise<Server | undefined> {
  const twinHost = ipv6TwinOf(host);
  if (!twinHost) return undefined;
  const twin = createServer({ noDelay: true, pauseOnConnect }, (socket) => primary.emit('connection', socket));
  try {
    await listeners.tcp(name, twin, twinHost, port, true);
    return twin;
  } catch (e) {
    log.info('no IPv6 listener (IPv6 unavailable on this host)', { address: `[${twinHost}]:${port}`, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
    return undefined;
  }
}
