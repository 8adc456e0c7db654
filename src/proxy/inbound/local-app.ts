// The inbound's last stage: the request to the local app on 127.0.0.1:<target port>. HTTP/1.1 from
// the lean relay goes on pooled keep-alive connections; HTTP/2 from a peer goes as HTTP/1.1 when it
// started as HTTP/1.1 (outpost-orig-proto), else as HTTP/2 (h2c). Every connection is marked as the
// proxy's own, so the admin never takes it for a local user.
import { request as h1request, Agent } from 'node:http';
import { connect as netConnect, type NetConnectOpts, type Socket } from 'node:net';
import type { Handler, HttpExchange, Http2Wire, RelayForwarding, RelayWire } from '../http/exchange.js';
import { proxyError } from '../http/errors.js';
import { h2RequestToH1, h2RequestToH2 } from '../http/headers.js';
import { relayH1ToH2, relayH2ToH2 } from '../http/relay.js';
import { H2cPool } from '../http/h2c-pool.js';
import { ConnectionPool } from '../http1/pool.js';
import { ORIG_PROTO_HEADER } from '../transport/header.js';
import { connectPlain, markOwnLocalClient, type ConnectDeps } from '../outbound/connect.js';
import type { Authorized } from './layers.js';

const LOCALHOST = '127.0.0.1';

export class LocalApp {
  /** Keep-alive connections of the lean relay, by local port. */
  readonly pool: ConnectionPool;
  private readonly agent: Agent;
  private readonly h2c: H2cPool;
  private readonly relayTargets = new Map<number, LocalTarget>();

  constructor(private readonly deps: ConnectDeps) {
    const idleMs = deps.config.timeouts.idleMs;
    this.pool = new ConnectionPool(idleMs);
    this.agent = new Agent({ keepAlive: true, maxSockets: 512, timeout: idleMs });
    (this.agent as unknown as { createConnection(o: NetConnectOpts): unknown }).createConnection = (o: NetConnectOpts) => markOwnLocalClient(deps, netConnect(o));
    this.h2c = new H2cPool(idleMs, (s) => markOwnLocalClient(deps, s));
  }

  readonly handle: Handler<Authorized> = (x, t) => {
    x.sending();
    const w = x.wire;
    if (w.kind === 'relay') return this.relay(x, w, t.port);
    if (w.kind === 'h2') return this.stream(x, w, t.port);
    // node:http exchanges are outbound only.
    x.respond(proxyError('upstream_failed', 'no inbound route for this request'));
  };

  private relay(x: HttpExchange, w: RelayWire, port: number): void {
    let r = this.relayTargets.get(port);
    if (!r) this.relayTargets.set(port, (r = { port, key: `${LOCALHOST}:${port}`, connect: () => connectPlain(this.deps, LOCALHOST, port, 'inbound') }));
    w.forward(new LocalRelayAttempt(this.pool, x, r));
  }

  private stream(x: HttpExchange, w: Http2Wire, port: number): void {
    const { stream, headers } = w;
    const done = (status: number, failure: boolean, grpcStatus?: number) => x.done(status, failure, grpcStatus);
    if (headers[ORIG_PROTO_HEADER] === 'HTTP/1.1') {
      const up = h1request({ agent: this.agent, host: LOCALHOST, port, method: x.method, path: x.path, headers: h2RequestToH1(headers) }, (r) => relayH1ToH2(r, stream, done));
      up.on('error', (e) => x.respond(localFailed(port, e)));
      stream.on('close', () => up.destroyed || up.destroy());
      if (x.hasBody) stream.pipe(up);
      else up.end();
      return;
    }
    const up = this.h2c.get(LOCALHOST, port).request(h2RequestToH2(headers), { endStream: !x.hasBody });
    up.on('error', (e) => x.respond(localFailed(port, e)));
    relayH2ToH2(up, stream, done);
    if (x.hasBody) stream.pipe(up);
  }

  close(): void {
    this.pool.drain();
    this.agent.destroy();
    this.h2c.close();
  }
}

interface LocalTarget {
  port: number;
  key: string;
  connect: () => Socket;
}

/** One relay request's way to the local app (methods: no closure per request but the pool's callback). */
class LocalRelayAttempt implements RelayForwarding {
  readonly extraHeaders = '';

  constructor(
    private readonly pool: ConnectionPool,
    private readonly x: HttpExchange,
    private readonly r: LocalTarget,
  ) {}

  connect(cb: (s: Socket) => void): void {
    this.pool.acquire(this.r.key, this.r.connect, 'connect', (err, s) => {
      if (err || !s) return this.x.respond(localFailed(this.r.port, err));
      cb(s);
    });
  }

  release(s: Socket): void {
    this.pool.release(this.r.key, s);
  }
}

function localFailed(port: number, e: (Error & { code?: string }) | undefined): ReturnType<typeof proxyError> {
  return proxyError('connect_failed', `local app on port ${port}: ${e?.code ?? e?.message ?? 'no connection'}`);
}
