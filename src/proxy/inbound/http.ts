// Inbound HTTP/2: each request (an HTTP/2 stream from a peer proxy, or h2 detected inside a TCP
// connection) is authorized against its target port's policy (denied -> 403, counted) and forwarded
// to the local app on 127.0.0.1: as HTTP/1.1 when it started as HTTP/1.1, else as HTTP/2.
import { request as h1request, Agent } from 'node:http';
import { connect as netConnect, type NetConnectOpts } from 'node:net';
import type { ServerHttp2Stream, IncomingHttpHeaders as H2Headers, ServerHttp2Session } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ProxyContext } from '../context.js';
import { InboundConnection, type InboundPolicies } from './policies.js';
import { authorizeRequest } from './authorize.js';
import type { InboundTargets } from './target-ports.js';
import { DST_PORT_HEADER, ORIG_PROTO_HEADER } from '../transport/header.js';
import { h2RequestToH1, h2RequestToH2 } from '../http/headers.js';
import { relayH1ToH2, relayH2ToH2 } from '../http/relay.js';
import { isGrpc, proxyError, respondErrorH2 } from '../http/errors.js';
import { publishTap } from '../tap/publish.js';
import { H2cPool } from '../http/h2c-pool.js';
import type { HttpMetrics } from '../metrics/proxy-metrics.js';
import { markOwnLocalClient } from '../outbound/connect.js';

export const CONN = Symbol('outpost.inboundConnection');
const LOCALHOST = '127.0.0.1';

export class InboundHttp {
  private readonly agent: Agent;
  private readonly h2c: H2cPool;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly policies: InboundPolicies,
    private readonly targets: InboundTargets,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 512, timeout: ctx.config.timeouts.idleMs });
    (this.agent as unknown as { createConnection(o: NetConnectOpts): unknown }).createConnection = (o: NetConnectOpts) => markOwnLocalClient(ctx, netConnect(o));
    this.h2c = new H2cPool(ctx.config.timeouts.idleMs, (s) => markOwnLocalClient(ctx, s));
  }

  /** An HTTP/2 stream from a peer proxy (or h2 detected in a TCP connection). */
  onStream = (stream: ServerHttp2Stream, headers: H2Headers): void => {
    const session = stream.session as ServerHttp2Session & { [CONN]?: InboundConnection };
    const conn = session[CONN] ?? (session[CONN] = (session.socket as unknown as { [CONN]: InboundConnection })[CONN]);
    conn.established();
    const port = Number(headers[DST_PORT_HEADER]) || conn.headerPort;
    if (!port) return respondErrorH2(stream, proxyError('no_target_port', 'no target port'), isGrpc(headers['content-type']));
    const waitMs = this.ctx.config.timeouts.detectMs;
    this.policies.whenKnown(port, waitMs, () => this.targets.whenKnown(port, waitMs, () => this.serveStream(stream, headers, conn, port)));
  };

  private serveStream(stream: ServerHttp2Stream, headers: H2Headers, conn: InboundConnection, port: number): void {
    if (stream.destroyed) return;
    const method = headers[':method'] as string;
    const path = headers[':path'] as string;
    const authority = (headers[':authority'] as string) ?? '';
    const grpc = isGrpc(headers['content-type']);
    const refusal = this.targets.check(port, this.policies.current(port), conn.clientId);
    if (refusal) return respondErrorH2(stream, proxyError('target_port_refused', refusal.message), grpc);
    const m = this.authorize(conn, port, headers, authority);
    if (!m) return respondErrorH2(stream, proxyError('unauthorized'), grpc);
    const start = performance.now();
    m.request.value++;
    const done = (status: number, failure: boolean, grpcStatus?: number) => {
      const ms = performance.now() - start;
      m.response(status, ms, failure, grpcStatus);
      if (this.ctx.tap.active) this.publishTap(conn, port, method, authority, path, status, ms, grpcStatus);
    };
    const hasBody = !stream.endAfterHeaders;
    if (headers[ORIG_PROTO_HEADER] === 'HTTP/1.1') {
      const up = h1request({ agent: this.agent, host: LOCALHOST, port, method, path, headers: h2RequestToH1(headers) }, (r) => relayH1ToH2(r, stream, done));
      up.on('error', (e) => {
        done(502, true);
        respondErrorH2(stream, proxyError('connect_failed', `local app on port ${port}: ${(e as Error & { code?: string }).code ?? e.message}`), grpc);
      });
      stream.on('close', () => up.destroyed || up.destroy());
      if (hasBody) stream.pipe(up);
      else up.end();
      return;
    }
    const up = this.h2c.get(LOCALHOST, port).request(h2RequestToH2(headers), { endStream: !hasBody });
    up.on('error', (e) => {
      done(502, true);
      respondErrorH2(stream, proxyError('connect_failed', `local app on port ${port}: ${(e as Error & { code?: string }).code ?? e.message}`), grpc);
    });
    relayH2ToH2(up, stream, done);
    if (hasBody) stream.pipe(up);
  }

  /** Allowed -> the request's metrics handle; denied -> undefined (and counted). */
  private authorize(conn: InboundConnection, port: number, headers: H2Headers, authority: string): HttpMetrics | undefined {
    const st = conn.port(port, this.policies);
    const method = String(headers[':method'] ?? '');
    const path = String(headers[':path'] ?? '');
    const header = (n: string) => {
      const v = headers[n];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const d = authorizeRequest(st.policy, conn.clientId, conn.clientIp, { method, target: path, header });
    if (!d.allowed) {
      conn.denyCell(st, true).value++;
      this.ctx.log.debug('request denied', { port, client: conn.clientId, method, path, reason: d.labels.reason });
      return undefined;
    }
    conn.allowCell(st, true, d.labels).value++;
    return conn.httpMetrics(st, authority);
  }

  private publishTap(conn: InboundConnection, port: number, method: string, authority: string, path: string, status: number, ms: number, grpcStatus: number | undefined): void {
    const peer = { direction: 'inbound', destination: `${LOCALHOST}:${port}`, sourceIdentity: conn.clientId ?? '', destinationIdentity: this.ctx.tls.creds?.identity ?? '', destinationLabels: {}, tls: conn.clientId !== undefined } as const;
    publishTap(this.ctx.tap, this.ctx.clock, { method, path, authority, client: conn.clientAddr }, peer, status, ms, grpcStatus);
  }

  close(): void {
    this.agent.destroy();
    this.h2c.close();
  }
}
