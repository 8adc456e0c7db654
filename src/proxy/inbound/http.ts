// The inbound HTTP server stage: each request from a peer proxy (HTTP/2 streams, HTTP/1.1 on the
// lean relay, or either detected inside an opaque-ALPN connection) becomes one HttpExchange with
// its connection and target port (`outpost-dst-port`, else the transport header's), and runs the
// inbound stack (stack.ts).
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders as H2Headers, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { ProxyContext } from '../context.js';
import type { Handler } from '../http/exchange.js';
import { Http2Exchange } from '../http/node-exchange.js';
import { RelayExchange } from '../http1/exchange.js';
import { serveHttp1, type Http1Connection } from '../http1/relay.js';
import { DST_PORT_HEADER } from '../transport/header.js';
import { newInboundRequest, type InboundRequest } from './layers.js';
import { LocalApp } from './local-app.js';
import type { InboundConnection, InboundPolicies } from './policies.js';
import { inboundHttpStack } from './stack.js';
import type { InboundTargets } from './target-ports.js';

export const CONN = Symbol('outpost.inboundConnection');

export class InboundHttp {
  readonly localApp: LocalApp;
  private readonly handle: Handler<InboundRequest>;
  private readonly connections = new Set<Http1Connection>();

  constructor(
    private readonly ctx: ProxyContext,
    policies: InboundPolicies,
    targets: InboundTargets,
  ) {
    this.localApp = new LocalApp(ctx);
    this.handle = inboundHttpStack({ policies, targets, localApp: this.localApp, clock: ctx.clock, log: ctx.log, tap: ctx.tap, ownIdentity: () => ctx.tls.creds?.identity, policyWaitMs: ctx.config.timeouts.detectMs });
  }

  /** HTTP/1.1 from a peer (ALPN http/1.1, or detected in an opaque-ALPN connection) on the lean relay. */
  serveRelay(socket: Socket, conn: InboundConnection): void {
    const t = this.ctx.config.timeouts;
    const c = serveHttp1(
      socket,
      (head, decide) => {
        conn.established();
        this.handle(new RelayExchange(head, decide, conn.clientAddr, head.host ?? '', t.requestMs), newInboundRequest(conn, head.dstPort || conn.headerPort));
      },
      () => this.connections.delete(c),
      t.idleMs,
      t.headerMs,
    );
    this.connections.add(c);
  }

  /** An HTTP/2 stream from a peer proxy (or h2 detected in a TCP connection). */
  onStream = (stream: ServerHttp2Stream, headers: H2Headers): void => {
    const session = stream.session as ServerHttp2Session & { [CONN]?: InboundConnection };
    const conn = session[CONN] ?? (session[CONN] = (session.socket as unknown as { [CONN]: InboundConnection })[CONN]);
    conn.established();
    const port = Number(headers[DST_PORT_HEADER]) || conn.headerPort;
    this.handle(new Http2Exchange(stream, headers, String(headers[':authority'] ?? ''), conn.clientAddr), newInboundRequest(conn, port));
  };

  /** Closes each HTTP/1.1 peer connection once its in-flight requests are answered. */
  drain(): void {
    for (const c of this.connections) c.drain();
  }

  close(): void {
    this.localApp.close();
  }
}
