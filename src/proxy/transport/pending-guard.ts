// Guards the proxy's HTTP (admin) and HTTP/2-over-TLS (tap) listeners with the shared pending-connection
// limits, counting refusals in listener_pending_refused_total.
import type { Server as NetServer, Socket } from 'node:net';
import type { ProxyContext } from '../context.js';
import { PendingConnections, type PendingLimits, type PendingRefusal } from '../../core/pending-connections.js';
import type { Family, CounterCell } from '../../core/metrics/registry.js';

/** Pending-connection tracking for one proxy listener, its refusals counted per reason. */
export function proxyPendingConnections(listener: string, limits: PendingLimits, refused: Family<CounterCell>): PendingConnections {
  const cells = new Map<PendingRefusal, CounterCell>();
  return new PendingConnections(limits, (reason) => {
    let c = cells.get(reason);
    if (!c) cells.set(reason, (c = refused.cell(`listener="${listener}",reason="${reason}"`)));
    c.value++;
  });
}

/**
 * Guards an HTTP (admin) or HTTP/2-over-TLS (tap) listener: accepted connections are capped per
 * address, TLS handshake timeouts are counted, and the first request must come within the header timeout.
 */
export function guardListener(ctx: ProxyContext, listener: string, server: NetServer): PendingConnections {
  const pending = proxyPendingConnections(listener, { headerTimeoutMs: ctx.config.timeouts.headerMs, maxPendingPerClient: ctx.config.listeners.maxPendingPerClient }, ctx.metrics.pendingRefused);
  const tls = typeof (server as { setSecureContext?: unknown }).setSecureContext === 'function';
  server.on('connection', (raw: Socket) => {
    if (pending.admit(raw) && !tls) pending.awaitFirstRequest(raw);
  });
  if (tls) {
    server.on('secureConnection', (s: Socket) => pending.awaitFirstRequest(s));
    server.on('tlsClientError', (err: Error & { code?: string }, socket: Socket) => {
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') pending.count('handshake_timeout');
      socket.destroy();
    });
    server.on('stream', (stream: { session?: { socket?: Socket } }) => stream.session?.socket && pending.established(stream.session.socket));
  } else server.on('request', (req: { socket: Socket }) => pending.established(req.socket));
  return pending;
}
