// Inbound HTTP/1.1 on the lean relay: requests from a peer proxy (ALPN http/1.1, target port in
// `outpost-dst-port`) or detected inside an opaque connection (port from its transport header) are
// authorized per request (denied -> 403, counted) and relayed to 127.0.0.1:<port> over pooled
// keep-alive connections.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProxyContext } from '../context.js';
import type { InboundConnection, InboundPolicies } from './policies.js';
import { authorizeRequest } from './authorize.js';
import { rawHeaderValue } from '../../core/routes/http-route.js';
import type { InboundTargets } from './target-ports.js';
import { ConnectionPool } from '../http1/pool.js';
import { serveHttp1, type Decision, type Http1Connection, type RequestHead } from '../http1/relay.js';
import { connectPlain } from '../outbound/connect.js';
import { proxyError } from '../http/errors.js';
import { publishTap } from '../tap/publish.js';

export class InboundHttp1 {
  readonly pool: ConnectionPool;
  private readonly connections = new Set<Http1Connection>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly policies: InboundPolicies,
    private readonly targets: InboundTargets,
  ) {
    this.pool = new ConnectionPool(ctx.config.timeouts.idleMs);
  }

  serve(socket: Socket, conn: InboundConnection): void {
    const route = (head: RequestHead, decide: (d: Decision) => void) => {
      conn.established();
      const port = head.dstPort || conn.headerPort;
      if (!port) return decide(this.route(conn, head));
      const waitMs = this.ctx.config.timeouts.detectMs;
      this.policies.whenKnown(port, waitMs, () => this.targets.whenKnown(port, waitMs, () => decide(this.route(conn, head))));
    };
    const c = serveHttp1(socket, route, () => this.connections.delete(c), this.ctx.config.timeouts.idleMs, this.ctx.config.timeouts.headerMs);
    this.connections.add(c);
  }

  /** Closes each peer connection once its in-flight requests are answered. */
  drain(): void {
    for (const c of this.connections) c.drain();
  }

  private route(conn: InboundConnection, head: RequestHead): Decision {
    const ctx = this.ctx;
    const port = head.dstPort || conn.headerPort;
    if (!port) return { kind: 'respond', error: proxyError('no_target_port', 'no target port') };
    const st = conn.port(port, this.policies);
    const refusal = this.targets.check(port, st.policy, conn.clientId);
    if (refusal) return { kind: 'respond', error: proxyError('target_port_refused', refusal.message) };
    const path = head.url;
    const d = authorizeRequest(st.policy, conn.clientId, conn.clientIp, { method: head.method, target: path, header: (n) => rawHeaderValue(head.headers, n) });
    if (!d.allowed) {
      conn.denyCell(st, true).value++;
      ctx.log.debug('request denied', { port, client: conn.clientId, method: head.method, path, reason: d.labels.reason });
      return { kind: 'respond', error: proxyError('unauthorized') };
    }
    conn.allowCell(st, true, d.labels).value++;
    const authority = head.host ?? '';
    const m = conn.httpMetrics(st, authority);
    m.request.value++;
    const key = `127.0.0.1:${port}`;
    const start = performance.now();
    return {
      kind: 'forward',
      extraHeaders: '',
      timeoutMs: ctx.config.timeouts.requestMs,
      acquire: (cb) => this.pool.acquire(key, () => connectPlain(ctx, '127.0.0.1', port, 'inbound'), 'connect', cb),
      release: (s) => this.pool.release(key, s),
      done: (status, failure) => {
        const ms = performance.now() - start;
        m.response(status, ms, failure);
        if (ctx.tap.active) {
          const peer = { direction: 'inbound', destination: key, sourceIdentity: conn.clientId ?? '', destinationIdentity: ctx.tls.creds?.identity ?? '', destinationLabels: {}, tls: conn.clientId !== undefined } as const;
          publishTap(ctx.tap, ctx.clock, { method: head.method, path, authority, client: conn.clientAddr }, peer, status, ms);
        }
      },
    };
  }

  close(): void {
    this.pool.drain();
  }
}
