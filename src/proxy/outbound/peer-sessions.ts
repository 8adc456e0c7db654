// Pooled HTTP/2 sessions to peer proxies: one multiplexed mTLS connection per peer carries every
// HTTP request to it (HTTP/1.1 from the app included). Rotation drains old sessions gracefully.
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import type { ResolvedEndpoint } from '../../api/model.js';
import { connectPeer, peerKey, type ConnectDeps } from './connect.js';
import { ALPN_H2 } from '../transport/header.js';

interface Entry {
  session: ClientHttp2Session;
  ready: boolean;
  waiters: ((err?: Error) => void)[];
}

export class PeerSessions {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ctx: ConnectDeps) {
    ctx.tls.onRotate(() => this.drainAll());
  }

  /** A connected session, or undefined (then call `connect`). */
  ready(ep: ResolvedEndpoint): ClientHttp2Session | undefined {
    const e = this.entries.get(peerKey(ep));
    return e?.ready ? e.session : undefined;
  }

  connect(ep: ResolvedEndpoint, cb: (err: Error | undefined, s?: ClientHttp2Session) => void): void {
    const key = peerKey(ep);
    let e = this.entries.get(key);
    if (e?.ready) return cb(undefined, e.session);
    if (!e) e = this.open(key, ep);
    const entry = e;
    entry.waiters.push((err) => (err ? cb(err) : cb(undefined, entry.session)));
  }

  private open(key: string, ep: ResolvedEndpoint): Entry {
    const ctx = this.ctx;
    const session = h2connect(`https://${ep.address}:${ep.inboundPort}`, {
      createConnection: () => connectPeer(ctx, ep, ALPN_H2),
      settings: { enablePush: false, initialWindowSize: 1 << 20 },
      maxSessionMemory: 64,
    });
    const entry: Entry = { session, ready: false, waiters: [] };
    this.entries.set(key, entry);
    const settle = (err?: Error) => {
      const w = entry.waiters;
      entry.waiters = [];
      for (const f of w) f(err);
    };
    session.once('connect', () => {
      entry.ready = true;
      session.setLocalWindowSize(1 << 24);
      settle();
    });
    session.on('error', (err) => {
      ctx.log.debug('peer session error', { peer: key, reason: err.message });
      settle(err);
    });
    session.once('close', () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      settle(new Error('peer session closed'));
    });
    session.once('goaway', () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    session.setTimeout(ctx.config.timeouts.idleMs, () => session.close());
    session.unref();
    return entry;
  }

  /** Stops using every session for new requests; in-flight streams finish. */
  drainAll(): void {
    for (const [key, e] of this.entries) {
      this.entries.delete(key);
      if (!e.session.closed) e.session.close();
    }
  }

  destroyAll(): void {
    for (const e of this.entries.values()) e.session.destroy();
    this.entries.clear();
  }
}
