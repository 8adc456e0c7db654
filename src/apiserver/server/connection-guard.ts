// Limits on connections that have not sent a request yet (slowloris, half-open TLS): a TLS
// handshake deadline, a request-header deadline, and a cap on such pending connections per client
// address. Requests themselves (watches included) have no server-side deadline.
import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import { PendingConnections } from '../../core/pending-connections.js';

export interface ConnectionLimits {
  /** A client must finish its TLS handshake within this long (Node's default is 120 s). */
  handshakeTimeoutMs: number;
  /** ... and then send a request's headers within this long (answered 408 and closed). */
  headersTimeoutMs: number;
  /** Connections from one address still in handshake or awaiting their first request; past it, new ones are closed at once. */
  maxPendingPerClient: number;
}

/**
 * kube-apiserver's ReadHeaderTimeout is 32 s and covers the handshake too; Outpost gives the
 * handshake 10 s of it. 128 pending per address leaves room for a control plane starting all its
 * informers at once (and the API bench's 100 watchers) from one loopback address.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { handshakeTimeoutMs: 10_000, headersTimeoutMs: 32_000, maxPendingPerClient: 128 };

/** How often Node checks header deadlines (its default is 30 s, too coarse for short deadlines). */
export function checkingIntervalMs(limits: ConnectionLimits): number {
  return Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)));
}

/** Applies the limits to an HTTPS server created with `handshakeTimeout` and `connectionsCheckingInterval` from them. */
export function guardConnections(server: Server, limits: ConnectionLimits, onRefused: (address: string) => void = () => {}): void {
  server.headersTimeout = limits.headersTimeoutMs; // Node answers a late request head with 408
  const pending = new PendingConnections(
    { headerTimeoutMs: limits.headersTimeoutMs, maxPendingPerClient: limits.maxPendingPerClient },
    (reason, address) => reason === 'too_many_pending' && onRefused(address),
  );
  server.on('connection', (socket: Socket) => pending.admit(socket));
  server.on('request', (req) => pending.established(req.socket));
}
