// Outbound HTTP/1.1 on the lean relay: each request from the app is routed by authority, balanced
// (P2C/EWMA), and sent over a pooled keep-alive mTLS connection to the peer proxy (ALPN http/1.1,
// target port in `outpost-dst-port`), or over a pooled plain connection to an unmeshed endpoint.
// A connection failure ejects the endpoint and the request (not yet sent) goes to another one.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProxyContext } from '../context.js';
import type { OutboundHttp } from './http.js';
import { normalizeAuthority } from './http.js';
import type { EndpointSlot, LogicalService } from './logical.js';
import { connectPeer, connectPlain, peerKey } from './connect.js';
import { ConnectionPool } from '../http1/pool.js';
import { serveHttp1, type Decision, type Http1Connection, type RequestHead } from '../http1/relay.js';
import { requestAuthority, requestPath } from '../http/headers.js';
import { ALPN_HTTP1 } from '../transport/header.js';
import { proxyError } from '../http/errors.js';
import { publishTap } from '../tap/publish.js';
import { nextAttempt } from './retry.js';

export class OutboundHttp1 {
  readonly pool: ConnectionPool;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly http: OutboundHttp,
  ) {
    this.pool = new ConnectionPool(ctx.config.timeouts.idleMs);
    ctx.tls.onRotate(() => this.pool.drain());
    ctx.drainHooks.push(() => {
      for (const c of this.connections) c.drain();
    });
  }

  private readonly connections = new Set<Http1Connection>();

  serve(socket: Socket, forced?: string): void {
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    const c = serveHttp1(socket, (head, decide) => this.route(head, decide, forced, client), () => this.connections.delete(c), this.ctx.config.timeouts.idleMs, this.ctx.config.timeouts.headerMs);
    this.connections.add(c);
  }

  private route(head: RequestHead, decide: (d: Decision) => void, forced: string | undefined, client: string): void {
    const raw = forced ?? requestAuthority(head.url, head.host);
    if (!raw) return decide({ kind: 'respond', error: proxyError('no_authority', 'no authority: send absolute-form or a Host header') });
    if (head.url.charCodeAt(0) !== 47) head.url = requestPath(head.url);
    if (forced) setLogicalHost(head, forced);
    const svc = this.http.router.get(forced ?? normalizeAuthority(raw));
    const go = () => {
      const snap = svc.snapshot;
      if (!snap) return decide({ kind: 'respond', error: proxyError('discovery_timeout', `${svc.authority}: discovery did not answer`) });
      if (!snap.exists) return decide({ kind: 'respond', error: proxyError('no_such_service', `${svc.authority}: no such service`) });
      const slot = svc.balancer.pick();
      if (!slot) return decide({ kind: 'respond', error: proxyError('no_endpoints', `${svc.authority}: no endpoints`) });
      decide(this.forward(svc, slot, head, client));
    };
    if (svc.snapshot) go();
    else svc.whenResolved(this.ctx.config.timeouts.connectMs, go);
  }

  private forward(svc: LogicalService, first: EndpointSlot, head: RequestHead, client: string): Decision {
    const ctx = this.ctx;
    let slot = first;
    let st = svc.state(slot);
    const route = svc.snapshot?.routes ? svc.routeOf({ method: head.method, target: head.url, header: (n) => rawHeader(head.headers, n) }) : undefined;
    let http = svc.httpMetrics(slot, route);
    let start = 0;
    let poolKey = '';
    const pool = this.pool;
    const dstHeader = () => (slot.target.identity ? `outpost-dst-port: ${slot.target.port}\r\n` : '');
    const d: Extract<Decision, { kind: 'forward' }> = {
      kind: 'forward',
      extraHeaders: dstHeader(),
      timeoutMs: ctx.config.timeouts.requestMs,
      acquire: (cb) => {
        const tryOne = (attempt: number) => {
          const ep = slot.target;
          const key = ep.identity ? `${peerKey(ep)}|h1` : `${ep.address}:${ep.port}`;
          start = performance.now();
          pool.acquire(key, ep.identity ? () => connectPeer(ctx, ep, ALPN_HTTP1) : () => connectPlain(ctx, ep.address, ep.port, 'outbound', ep), ep.identity ? 'secureConnect' : 'connect', (err, s) => {
            if (!err) {
              poolKey = key;
              svc.balancer.start(slot);
              http.request.value++;
              return cb(undefined, s);
            }
            ctx.log.debug('endpoint connect failed', { authority: svc.authority, endpoint: st.targetAddr, reason: err.message });
            const other = nextAttempt(svc.balancer, slot, attempt);
            if (!other) {
              http.request.value++;
              svc.balancer.start(slot);
              return cb(err);
            }
            slot = other;
            st = svc.state(slot);
            http = svc.httpMetrics(slot, route);
            d.extraHeaders = dstHeader();
            tryOne(attempt + 1);
          });
        };
        tryOne(1);
      },
      release: (s) => pool.release(poolKey, s),
      done: (status, failure) => {
        const ms = performance.now() - start;
        http.response(status, ms, failure);
        svc.balancer.finish(slot, ms, !failure);
        if (ctx.tap.active) {
          const ep = slot.target;
          const peer = { direction: 'outbound', destination: `${ep.address}:${ep.port}`, sourceIdentity: ctx.tls.creds?.identity ?? '', destinationIdentity: ep.identity ?? '', destinationLabels: ep.labels, tls: ep.identity !== undefined } as const;
          publishTap(ctx.tap, ctx.clock, { method: head.method, path: head.url, authority: svc.authority, client }, peer, status, ms);
        }
      },
    };
    return d;
  }
}

/**
 * An upstream listener's request goes out with the upstream's logical authority as Host (the app
 * addressed 127.0.0.1:PORT, which means nothing to the server); the default port is left out.
 */
function setLogicalHost(head: RequestHead, authority: string): void {
  const host = authority.replace(/:80$/, '');
  head.host = host;
  for (let i = 0; i < head.headers.length; i += 2) {
    if (head.headers[i].length === 4 && head.headers[i].toLowerCase() === 'host') {
      head.headers[i + 1] = host;
      return;
    }
  }
  head.headers.push('host', host);
}

/** A header's value from raw alternating name/value pairs (`name` in lower case); repeated ones joined by ",". */
function rawHeader(raw: string[], name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) out = out === undefined ? raw[i + 1] : `${out},${raw[i + 1]}`;
  return out;
}
