// Outbound HTTP: route a request from the local app by its authority, pick an endpoint (P2C/EWMA),
// and send it over the pooled HTTP/2 session to the peer proxy (HTTP/1.1 requests multiplexed),
// or straight to an unmeshed endpoint. A request that never left (connect failed) is retried once
// on another endpoint; the failing endpoint is ejected.
import { request as h1request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ServerHttp2Stream, IncomingHttpHeaders as H2Headers, ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ProxyContext } from '../context.js';
import type { ResolvedEndpoint } from '../../api/model.js';
import { OutboundRouter, type LogicalService, type EndpointSlot } from './logical.js';
import { PeerSessions } from './peer-sessions.js';
import { H2cPool } from '../http/h2c-pool.js';
import { h1RequestToH2, h2RequestToH1, h2RequestToH2, requestAuthority, requestPath } from '../http/headers.js';
import { relayH2ToH1, relayH2ToH2 } from '../http/relay.js';
import { isGrpc, proxyError, respondErrorH1, respondErrorH2, type ProxyError } from '../http/errors.js';
import { publishTap } from '../tap/publish.js';
import { mayRetry } from './retry.js';

/** Adds the default port so "svc.ns" and "svc.ns:80" are one service. */
export function normalizeAuthority(a: string): string {
  return /:\d+$/.test(a) ? a : `${a}:80`;
}

type Exchange =
  | { kind: 'h1'; req: IncomingMessage; res: ServerResponse; path: string; hasBody: boolean }
  | { kind: 'h2'; stream: ServerHttp2Stream; headers: H2Headers; hasBody: boolean };

export class OutboundHttp {
  readonly router: OutboundRouter;
  readonly peers: PeerSessions;
  private readonly plainAgent: Agent;
  private readonly h2c: H2cPool;

  constructor(private readonly ctx: ProxyContext) {
    this.router = new OutboundRouter(ctx);
    this.peers = new PeerSessions(ctx);
    this.plainAgent = new Agent({ keepAlive: true, maxSockets: 256, timeout: ctx.config.timeouts.idleMs });
    this.h2c = new H2cPool(ctx.config.timeouts.idleMs);
  }

  /** An HTTP/1.x request from the app; `authority` is forced by an upstream listener. */
  handleH1 = (req: IncomingMessage, res: ServerResponse, forced?: string): void => {
    const raw = forced ?? requestAuthority(req.url ?? '/', req.headers.host);
    if (!raw) return respondErrorH1(res, proxyError('no_authority', 'no authority: send absolute-form or a Host header'));
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    this.route(forced ?? normalizeAuthority(raw), { kind: 'h1', req, res, path: requestPath(req.url ?? '/'), hasBody });
  };

  /** An HTTP/2 stream from the app (h2c prior knowledge, e.g. gRPC). */
  handleH2 = (stream: ServerHttp2Stream, headers: H2Headers, forced?: string): void => {
    const raw = forced ?? headers[':authority'];
    if (!raw) return respondErrorH2(stream, proxyError('no_authority', 'no :authority'), isGrpc(headers['content-type']));
    // An upstream listener's stream carries the upstream's logical authority, not 127.0.0.1:PORT.
    if (forced) headers[':authority'] = forced.replace(/:80$/, '');
    this.route(forced ?? normalizeAuthority(String(raw)), { kind: 'h2', stream, headers, hasBody: !stream.endAfterHeaders });
  };

  private route(authority: string, x: Exchange): void {
    const svc = this.router.get(authority);
    if (svc.snapshot) return this.dispatch(svc, x, 1, undefined);
    svc.whenResolved(this.ctx.config.timeouts.connectMs, () => this.dispatch(svc, x, 1, undefined));
  }

  private dispatch(svc: LogicalService, x: Exchange, attempt: number, exclude: EndpointSlot | undefined): void {
    const snap = svc.snapshot;
    if (!snap) return this.fail(x, proxyError('discovery_timeout', `${svc.authority}: discovery did not answer`));
    if (!snap.exists) return this.fail(x, proxyError('no_such_service', `${svc.authority}: no such service`));
    const slot = svc.balancer.pick(exclude);
    if (!slot) return this.fail(x, proxyError('no_endpoints', `${svc.authority}: no endpoints`));
    const ep = slot.target;
    if (!ep.identity) return this.sendPlain(svc, slot, x);
    const session = this.peers.ready(ep);
    if (session) return this.send(svc, slot, session, x, attempt);
    this.peers.connect(ep, (err, s) => {
      if (!err && s) return this.send(svc, slot, s, x, attempt);
      this.ctx.log.debug('endpoint connect failed', { authority: svc.authority, endpoint: `${ep.address}:${ep.inboundPort}`, reason: err?.message });
      svc.balancer.ejectNow(slot);
      if (mayRetry(svc.balancer, attempt)) return this.dispatch(svc, x, attempt + 1, slot);
      this.fail(x, proxyError('connect_failed', `${svc.authority}: connect to ${ep.address}:${ep.inboundPort} failed: ${err?.message}`));
    });
  }

  private send(svc: LogicalService, slot: EndpointSlot, session: ClientHttp2Session, x: Exchange, attempt: number): void {
    const ep = slot.target;
    const http = svc.httpMetrics(slot, routeOf(svc, x));
    const start = performance.now();
    svc.balancer.start(slot);
    http.request.value++;
    let up: ClientHttp2Stream;
    try {
      const headers = x.kind === 'h1' ? h1RequestToH2(x.req.method ?? 'GET', x.path, svc.authority.replace(/:80$/, ''), x.req.headers, ep.port) : h2RequestToH2(x.headers, ep.port);
      up = session.request(headers, { endStream: !x.hasBody });
    } catch (e) {
      svc.balancer.finish(slot, performance.now() - start, false);
      return this.fail(x, proxyError('upstream_failed', `request failed: ${(e as Error).message}`));
    }
    let responded = false;
    const done = (status: number, failure: boolean, grpcStatus?: number) => {
      responded = true;
      const ms = performance.now() - start;
      http.response(status, ms, failure, grpcStatus);
      svc.balancer.finish(slot, ms, !failure);
      if (this.ctx.tap.active) this.publishTap(svc, ep, x, status, ms, grpcStatus);
    };
    up.setTimeout(this.ctx.config.timeouts.requestMs, () => {
      if (!responded) done(504, true);
      up.close(8 /* CANCEL */);
      this.fail(x, proxyError('response_timeout', `${svc.authority}: request timed out`));
    });
    up.on('error', (err: Error & { code?: string }) => {
      if (responded) return;
      // Nothing was sent (no body, no response): safe to try another endpoint.
      if (!x.hasBody && mayRetry(svc.balancer, attempt) && !headersSent(x)) {
        svc.balancer.finish(slot, performance.now() - start, false);
        responded = true;
        return this.dispatch(svc, x, attempt + 1, slot);
      }
      done(502, true);
      this.fail(x, proxyError('upstream_failed', `${svc.authority}: ${err.code ?? err.message}`));
    });
    up.once('response', () => {
      responded = true;
    });
    if (x.kind === 'h1') {
      relayH2ToH1(up, x.res, done);
      if (x.hasBody) x.req.pipe(up);
    } else {
      relayH2ToH2(up, x.stream, done);
      if (x.hasBody) x.stream.pipe(up);
    }
  }

  /** Pass-through to an endpoint without identity: plain HTTP, no mTLS. */
  private sendPlain(svc: LogicalService, slot: EndpointSlot, x: Exchange): void {
    const ep = slot.target;
    const http = svc.httpMetrics(slot, routeOf(svc, x));
    const start = performance.now();
    svc.balancer.start(slot);
    http.request.value++;
    const done = (status: number, failure: boolean, grpcStatus?: number) => {
      const ms = performance.now() - start;
      http.response(status, ms, failure, grpcStatus);
      svc.balancer.finish(slot, ms, !failure);
      if (this.ctx.tap.active) this.publishTap(svc, ep, x, status, ms, grpcStatus);
    };
    if (x.kind === 'h2') {
      const up = this.h2c.get(ep.address, ep.port).request(h2RequestToH2(x.headers), { endStream: !x.hasBody });
      up.on('error', (e) => (done(502, true), this.fail(x, proxyError('upstream_failed', e.message))));
      relayH2ToH2(up, x.stream, done);
      if (x.hasBody) x.stream.pipe(up);
      return;
    }
    const { req, res } = x;
    const headers = h2RequestToH1({ ...(req.headers as H2Headers), ':authority': svc.authority.replace(/:80$/, '') });
    const up = h1request({ agent: this.plainAgent, host: ep.address, port: ep.port, method: req.method, path: x.path, headers }, (r) => {
      const status = r.statusCode ?? 502;
      res.writeHead(status, r.headers);
      r.pipe(res);
      r.on('end', () => done(status, status >= 500));
    });
    up.on('error', (e) => {
      done(502, true);
      this.fail(x, proxyError(res.headersSent ? 'upstream_failed' : 'connect_failed', e.message));
    });
    if (x.hasBody) req.pipe(up);
    else up.end();
  }

  private fail(x: Exchange, e: ProxyError): void {
    if (x.kind === 'h1') respondErrorH1(x.res, e);
    else respondErrorH2(x.stream, e, isGrpc(x.headers['content-type']));
  }

  private publishTap(svc: LogicalService, ep: ResolvedEndpoint, x: Exchange, status: number, ms: number, grpcStatus: number | undefined): void {
    const method = x.kind === 'h1' ? (x.req.method ?? '') : String(x.headers[':method']);
    const path = x.kind === 'h1' ? x.path : String(x.headers[':path']);
    const sock = x.kind === 'h1' ? x.req.socket : x.stream.session?.socket;
    const peer = { direction: 'outbound', destination: `${ep.address}:${ep.port}`, sourceIdentity: this.ctx.tls.creds?.identity ?? '', destinationIdentity: ep.identity ?? '', destinationLabels: ep.labels, tls: ep.identity !== undefined } as const;
    publishTap(this.ctx.tap, this.ctx.clock, { method, path, authority: svc.authority, client: `${sock?.remoteAddress}:${sock?.remotePort}` }, peer, status, ms, grpcStatus);
  }

  close(): void {
    this.router.close();
    this.peers.destroyAll();
    this.plainAgent.destroy();
    this.h2c.close();
  }
}

/** The HTTPRoute of the service that takes the request, if the service has routes. */
function routeOf(svc: LogicalService, x: Exchange): string | undefined {
  if (!svc.snapshot?.routes) return undefined;
  if (x.kind === 'h1') {
    const h = x.req.headers;
    return svc.routeOf({ method: x.req.method ?? 'GET', target: x.path, header: (n) => headerValue(h[n]) });
  }
  const h = x.headers;
  return svc.routeOf({ method: String(h[':method'] ?? 'GET'), target: String(h[':path'] ?? '/'), header: (n) => headerValue(h[n]) });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

function headersSent(x: Exchange): boolean {
  return x.kind === 'h1' ? x.res.headersSent : x.stream.headersSent;
}
