// The outbound's last stage: how an exchange's bytes reach the chosen endpoint. A peer proxy gets
// HTTP/1.1 from the lean relay on a pooled keep-alive mTLS connection (ALPN http/1.1, target port
// in `outpost-dst-port`), and everything else on its multiplexed HTTP/2 session; an unmeshed
// endpoint gets plain HTTP. A request that never left is offered to the retry layer first.
import { request as h1request, Agent } from 'node:http';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders as H2Headers } from 'node:http2';
import type { Logger } from '../../core/log.js';
import type { Socket } from 'node:net';
import type { ResolvedEndpoint } from '../../api/model.js';
import type { Handler, HttpExchange, Http2Wire, NodeHttp1Wire, RelayForwarding, RelayWire } from '../http/exchange.js';
import { proxyError, respondErrorH1, respondErrorH2, type ProxyError } from '../http/errors.js';
import { endToEndResponse, h1RequestToH2, h2RequestToH1, h2RequestToH2 } from '../http/headers.js';
import { relayH2ToH1, relayH2ToH2 } from '../http/relay.js';
import { H2cPool } from '../http/h2c-pool.js';
import { ConnectionPool } from '../http1/pool.js';
import { ALPN_HTTP1 } from '../transport/header.js';
import type { ConnectDeps } from './connect.js';
import { connectPeer, connectPlain, peerKey } from './connect.js';
import type { Endpoint } from './layers.js';
import { retryElsewhere } from './retry.js';
import { PeerSessions } from './peer-sessions.js';

export interface EndpointDeps {
  /** The proxy's context, seen as what connecting needs. */
  connect: ConnectDeps;
  log: Logger;
  timeouts: { idleMs: number; requestMs: number };
}

export class OutboundEndpoints {
  /** Keep-alive HTTP/1.1 connections of the lean relay, by peer (or plain endpoint). */
  readonly pool: ConnectionPool;
  readonly peers: PeerSessions;
  private readonly plainAgent: Agent;
  private readonly h2c: H2cPool;
  private readonly relayTargets = new WeakMap<ResolvedEndpoint, RelayTarget>();

  constructor(private readonly deps: EndpointDeps) {
    this.pool = new ConnectionPool(deps.timeouts.idleMs);
    this.peers = new PeerSessions(deps.connect);
    this.plainAgent = new Agent({ keepAlive: true, maxSockets: 256, timeout: deps.timeouts.idleMs });
    this.h2c = new H2cPool(deps.timeouts.idleMs);
  }

  readonly handle: Handler<Endpoint> = (x, t) => {
    const w = x.wire;
    if (w.kind === 'relay') return this.relay(x, w, t);
    if (!t.slot.target.identity) return this.plain(x, w, t);
    const session = this.peers.ready(t.slot.target);
    if (session) return this.onSession(x, w, t, session);
    this.peers.connect(t.slot.target, (err, s) => {
      if (!err && s) return this.onSession(x, w, t, s);
      this.unsent(x, t, true, connectFailed(t, err));
    });
  };

  /** The lean relay: its request goes out on a pooled connection to the endpoint. */
  private relay(x: HttpExchange, w: RelayWire, t: Endpoint): void {
    w.forward(new RelayAttempt(this, x, t, this.relayTarget(t.slot.target)));
  }

  /** What the relay needs of an endpoint, built once per endpoint object (discovery makes new ones on change). */
  private relayTarget(ep: ResolvedEndpoint): RelayTarget {
    let r = this.relayTargets.get(ep);
    if (!r) {
      const deps = this.deps.connect;
      r = ep.identity
        ? { key: `${peerKey(ep)}|h1`, extraHeaders: `outpost-dst-port: ${ep.port}\r\n`, readyEvent: 'secureConnect', connect: () => connectPeer(deps, ep, ALPN_HTTP1) }
        : { key: `${ep.address}:${ep.port}`, extraHeaders: '', readyEvent: 'connect', connect: () => connectPlain(deps, ep.address, ep.port, 'outbound', ep) };
      this.relayTargets.set(ep, r);
    }
    return r;
  }

  /** HTTP/1.1 (from node:http) or HTTP/2 on the peer's multiplexed session. */
  private onSession(x: HttpExchange, w: NodeHttp1Wire | Http2Wire, t: Endpoint, session: ClientHttp2Session): void {
    const ep = t.slot.target;
    const authority = t.svc.authority;
    x.sending();
    let up: ClientHttp2Stream;
    try {
      const headers = w.kind === 'h1' ? h1RequestToH2(x.method, x.path, authority.replace(/:80$/, ''), w.req.headers, ep.port) : h2RequestToH2(w.headers, ep.port);
      up = session.request(headers, { endStream: !x.hasBody });
    } catch (e) {
      return x.respond(proxyError('upstream_failed', `request failed: ${(e as Error).message}`));
    }
    let responded = false;
    up.once('response', () => (responded = true));
    up.setTimeout(this.deps.timeouts.requestMs, () => {
      up.close(8 /* CANCEL */);
      const e = proxyError('response_timeout', `${authority}: request timed out`);
      // Once the response began, the downstream is cut and the relay reports its status.
      if (responded) cut(w, e);
      else x.respond(e);
      responded = true;
    });
    up.on('error', (err: Error & { code?: string }) => {
      if (responded) return;
      responded = true;
      const e = proxyError('upstream_failed', `${authority}: ${err.code ?? err.message}`);
      // Nothing was sent back yet (no response): the request may go to another endpoint.
      if (!headersSent(w)) return this.unsent(x, t, false, e);
      x.respond(e);
    });
    const done = (status: number, failure: boolean, grpcStatus?: number) => x.done(status, failure, grpcStatus);
    if (w.kind === 'h1') {
      relayH2ToH1(up, w.res, done);
      if (x.hasBody) w.req.pipe(up);
    } else {
      relayH2ToH2(up, w.stream, done);
      if (x.hasBody) w.stream.pipe(up);
    }
  }

  /** Pass-through to an endpoint without identity: plain HTTP, no mTLS. */
  private plain(x: HttpExchange, w: NodeHttp1Wire | Http2Wire, t: Endpoint): void {
    const ep = t.slot.target;
    const done = (status: number, failure: boolean, grpcStatus?: number) => x.done(status, failure, grpcStatus);
    x.sending();
    if (w.kind === 'h2') {
      const up = this.h2c.get(ep.address, ep.port).request(h2RequestToH2(w.headers), { endStream: !x.hasBody });
      up.on('error', (e) => x.respond(proxyError('upstream_failed', e.message)));
      relayH2ToH2(up, w.stream, done);
      if (x.hasBody) w.stream.pipe(up);
      return;
    }
    const { req, res } = w;
    const headers = h2RequestToH1({ ...(req.headers as H2Headers), ':authority': t.svc.authority.replace(/:80$/, '') });
    const up = h1request({ agent: this.plainAgent, host: ep.address, port: ep.port, method: x.method, path: x.path, headers }, (r) => {
      const status = r.statusCode ?? 502;
      res.writeHead(status, endToEndResponse(r.headers));
      r.pipe(res);
      r.on('end', () => done(status, status >= 500));
    });
    up.on('error', (e) => x.respond(proxyError(res.headersSent ? 'upstream_failed' : 'connect_failed', e.message)));
    if (x.hasBody) req.pipe(up);
    else up.end();
  }

  /** The request never left: another endpoint takes it (retry layer), or the exchange gets `error`. */
  unsent(x: HttpExchange, t: Endpoint, connectFailedToo: boolean, error: ProxyError): void {
    this.deps.log.debug('endpoint failed before the request left', { authority: t.svc.authority, endpoint: `${t.slot.target.address}:${t.slot.target.inboundPort}`, reason: error.message });
    // A request body may already be on its way: only a failed connect is retried then.
    if ((connectFailedToo || !x.hasBody) && retryElsewhere(x, t, connectFailedToo)) return;
    x.sending();
    x.respond(error);
  }

  /** Drains pooled connections and sessions (rotation, shutdown): in-flight requests finish. */
  drain(): void {
    this.pool.drain();
    this.peers.drainAll();
  }

  close(): void {
    this.pool.drain();
    this.peers.destroyAll();
    this.plainAgent.destroy();
    this.h2c.close();
  }
}

interface RelayTarget {
  /** The pool's key: one idle list per peer (identity and SNI included) or plain address. */
  key: string;
  extraHeaders: string;
  readyEvent: 'connect' | 'secureConnect';
  connect: () => Socket;
}

/** One relay request's way to its endpoint (methods: no closure per request but the pool's callback). */
class RelayAttempt implements RelayForwarding {
  constructor(
    private readonly endpoints: OutboundEndpoints,
    private readonly x: HttpExchange,
    private readonly t: Endpoint,
    private readonly r: RelayTarget,
  ) {}

  get extraHeaders(): string {
    return this.r.extraHeaders;
  }

  connect(cb: (s: Socket) => void): void {
    this.endpoints.pool.acquire(this.r.key, this.r.connect, this.r.readyEvent, (err, s) => {
      if (err || !s) return this.endpoints.unsent(this.x, this.t, true, connectFailed(this.t, err));
      this.x.sending();
      cb(s);
    });
  }

  release(s: Socket): void {
    this.endpoints.pool.release(this.r.key, s);
  }
}

function connectFailed(t: Endpoint, err: Error | undefined): ProxyError {
  const ep = t.slot.target;
  return proxyError('connect_failed', `${t.svc.authority}: connect to ${ep.address}:${ep.identity ? ep.inboundPort : ep.port} failed: ${err?.message ?? 'no connection'}`);
}

function headersSent(w: NodeHttp1Wire | Http2Wire): boolean {
  return w.kind === 'h1' ? w.res.headersSent : w.stream.headersSent;
}

/** Ends a downstream whose response already began (the error cannot be sent any more). */
function cut(w: NodeHttp1Wire | Http2Wire, e: ProxyError): void {
  if (w.kind === 'h1') respondErrorH1(w.res, e);
  else respondErrorH2(w.stream, e, false);
}
