// Connections a proxy listener accepted that are not established yet (TLS handshake under way, or no
// first request / transport header / HTTP/2 stream yet): capped per client address, and given a
// deadline, so half-open and slow-header clients cannot pile up (docs/proxy.md, "Idle handshakes").
import type { Server as NetServer, Socket } from 'node:net';
import type { ProxyContext } from '../context.js';
import type { Family, CounterCell } from '../metrics/registry.js';

export type PendingRefusal = 'too_many_pending' | 'handshake_timeout' | 'header_timeout';

export interface PendingLimits {
  /** After the TLS handshake (or the accept, without TLS), the first request must arrive within this long. */
  headerTimeoutMs: number;
  /** Connections from one address not established yet; past it, new ones are closed at once. */
  maxPendingPerClient: number;
}

interface Pending {
  raw: Socket;
  timer?: NodeJS.Timeout;
}

/** A TLS socket and the TCP socket under it share the peer's address and port: that pair keys a pending connection. */
const keyOf = (s: Socket) => `${s.remoteAddress ?? ''}|${s.remotePort ?? 0}`;

export class PendingConnections {
  private readonly pending = new Map<string, Pending>();
  private readonly perAddress = new Map<string, number>();
  private readonly cells = new Map<PendingRefusal, CounterCell>();

  constructor(
    private readonly listener: string,
    private readonly limits: PendingLimits,
    private readonly refused: Family<CounterCell>,
  ) {}

  /** Counts a refusal (the TLS server's handshake timeout is reported here too). */
  count(reason: PendingRefusal): void {
    let c = this.cells.get(reason);
    if (!c) {
      c = this.refused.cell(`listener="${this.listener}",reason="${reason}"`);
      this.cells.set(reason, c);
    }
    c.value++;
  }

  /** On accept (the raw TCP socket): false when its address already has too many pending; the socket is then closed. */
  admit(raw: Socket): boolean {
    const address = raw.remoteAddress ?? '';
    const n = this.perAddress.get(address) ?? 0;
    if (n >= this.limits.maxPendingPerClient) {
      this.count('too_many_pending');
      raw.destroy();
      return false;
    }
    const key = keyOf(raw);
    this.pending.set(key, { raw });
    this.perAddress.set(address, n + 1);
    raw.once('close', () => this.release(key, address));
    return true;
  }

  /** The handshake is done: the first request must come within the header timeout, else `conn` is closed. */
  awaitFirstRequest(conn: Socket): void {
    const p = this.pending.get(keyOf(conn));
    if (!p || p.timer) return;
    const key = keyOf(conn);
    p.timer = setTimeout(() => {
      if (!this.pending.has(key)) return;
      this.count('header_timeout');
      conn.destroy();
      p.raw.destroy();
    }, this.limits.headerTimeoutMs);
    p.timer.unref();
  }

  /** The first request, transport header or stream arrived on `conn`: no longer pending. */
  established(conn: Socket): void {
    this.release(keyOf(conn), conn.remoteAddress ?? '');
  }

  /** Connections from `address` not established yet (for tests and diagnostics). */
  pendingFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  private release(key: string, address: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if (p.timer) clearTimeout(p.timer);
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
  }
}

/**
 * Guards an HTTP (admin) or HTTP/2-over-TLS (tap) listener: accepted connections are capped per
 * address, TLS handshake timeouts are counted, and the first request must come within the header timeout.
 */
export function guardListener(ctx: ProxyContext, listener: string, server: NetServer): PendingConnections {
  const pending = new PendingConnections(listener, { headerTimeoutMs: ctx.config.timeouts.headerMs, maxPendingPerClient: ctx.config.listeners.maxPendingPerClient }, ctx.metrics.pendingRefused);
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
