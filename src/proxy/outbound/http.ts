// The outbound HTTP server stage: each request from the app becomes one HttpExchange (from the lean
// HTTP/1.1 relay, or node:http / HTTP/2 streams) routed by its authority through the outbound
// stack (stack.ts). An upstream listener forces the authority and sends it as Host / :authority.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders as H2Headers, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { ProxyContext } from '../context.js';
import type { HttpExchange } from '../http/exchange.js';
import { isGrpc, proxyError, respondErrorH1, respondErrorH2 } from '../http/errors.js';
import { requestAuthority, requestPath } from '../http/headers.js';
import { Http2Exchange, NodeHttp1Exchange, streamClient } from '../http/node-exchange.js';
import { RelayExchange } from '../http1/exchange.js';
import { serveHttp1, type Decision, type Http1Connection, type RequestHead } from '../http1/relay.js';
import { OutboundEndpoints } from './endpoint.js';
import { OutboundRouter } from './logical.js';
import { outboundHttpStack } from './stack.js';

/** Adds the default port so "svc.ns" and "svc.ns:80" are one service. */
export function normalizeAuthority(a: string): string {
  return /:\d+$/.test(a) ? a : `${a}:80`;
}

export class OutboundHttp {
  readonly router: OutboundRouter;
  readonly endpoints: OutboundEndpoints;
  /** HTTP/1.1 from the app rides the lean relay (http1Transport: http1), else node:http and HTTP/2 to peers. */
  readonly relay: boolean;
  private readonly handle: (x: HttpExchange) => void;
  private readonly connections = new Set<Http1Connection>();

  constructor(private readonly ctx: ProxyContext) {
    const t = ctx.config.timeouts;
    this.router = new OutboundRouter({ clock: ctx.clock, discovery: ctx.discovery, metrics: ctx.metrics, idleMs: t.idleMs });
    this.endpoints = new OutboundEndpoints({ connect: ctx, log: ctx.log, timeouts: { idleMs: t.idleMs, requestMs: t.requestMs } });
    this.relay = ctx.config.outbound.http1Transport === 'http1';
    this.handle = outboundHttpStack({ router: this.router, endpoint: this.endpoints.handle, clock: ctx.clock, tap: ctx.tap, ownIdentity: () => ctx.tls.creds?.identity, discoveryWaitMs: t.connectMs });
    ctx.tls.onRotate(() => this.endpoints.pool.drain());
    ctx.drainHooks.push(() => {
      for (const c of this.connections) c.drain();
    });
  }

  /** An app connection on the lean relay; `forced` is an upstream listener's authority. */
  serveRelay(socket: Socket, forced?: string): void {
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    const t = this.ctx.config.timeouts;
    const route = (head: RequestHead, decide: (d: Decision) => void) => {
      const raw = forced ?? requestAuthority(head.url, head.host);
      if (!raw) return decide({ kind: 'respond', error: proxyError('no_authority', 'no authority: send absolute-form or a Host header') });
      if (head.url.charCodeAt(0) !== 47) head.url = requestPath(head.url);
      if (forced) setLogicalHost(head, forced);
      this.handle(new RelayExchange(head, decide, client, forced ?? normalizeAuthority(raw), t.requestMs));
    };
    const c = serveHttp1(socket, route, () => this.connections.delete(c), t.idleMs, t.headerMs);
    this.connections.add(c);
  }

  /** An HTTP/1.x request node:http parsed (http1Transport: h2). */
  handleH1 = (req: IncomingMessage, res: ServerResponse, forced?: string): void => {
    const raw = forced ?? requestAuthority(req.url ?? '/', req.headers.host);
    if (!raw) return respondErrorH1(res, proxyError('no_authority', 'no authority: send absolute-form or a Host header'));
    this.handle(new NodeHttp1Exchange(req, res, forced ?? normalizeAuthority(raw)));
  };

  /** An HTTP/2 stream from the app (h2c prior knowledge, e.g. gRPC). */
  handleH2 = (stream: ServerHttp2Stream, headers: H2Headers, forced?: string): void => {
    const raw = forced ?? headers[':authority'];
    if (!raw) return respondErrorH2(stream, proxyError('no_authority', 'no :authority'), isGrpc(headers['content-type']));
    // An upstream listener's stream carries the upstream's logical authority, not 127.0.0.1:PORT.
    if (forced) headers[':authority'] = forced.replace(/:80$/, '');
    this.handle(new Http2Exchange(stream, headers, forced ?? normalizeAuthority(String(raw)), streamClient(stream)));
  };

  drain(): void {
    this.endpoints.drain();
  }

  close(): void {
    this.router.close();
    this.endpoints.close();
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
