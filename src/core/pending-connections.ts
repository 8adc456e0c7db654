// Connections a listener accepted that are not established yet (TLS handshake under way, or no
// first request / transport header / HTTP/2 stream yet): capped per client address, and given a
// deadline, so half-open and slow-header clients cannot pile up. One mechanism for the API server's
// listener and the proxy's (docs/proxy.md, "Idle handshakes"; docs/api-auth.md).
import type { Socket } from 'node:net';

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
  constructor(
    private readonly limits: PendingLimits,
    private readonly onRefused: (reason: PendingRefusal, address: string) => void = () => {},
  ) {}

  /** Reports a refusal (the TLS server's handshake timeout is reported here too). */
  count(reason: PendingRefusal, address = ''): void {
    this.onRefused(reason, address);
  }

  /** On accept (the raw TCP socket): false when its address already has too many pending; the socket is then closed. */
  admit(raw: Socket): boolean {
    const address = raw.remoteAddress ?? '';
    const n = this.perAddress.get(address) ?? 0;
    if (n >= this.limits.maxPendingPerClient) {
      this.count('too_many_pending', address);
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
      this.count('header_timeout', conn.remoteAddress ?? '');
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
