// Endpoint connections: mTLS to a peer proxy's inbound port (SNI = serverName, peer must carry
// exactly the discovered identity, TLS sessions resumed), or plain TCP to an unmeshed endpoint.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';
import type { ResolvedEndpoint } from '../../api/model.js';
import type { Clock } from '../../core/clock.js';
import type { ProxyContext } from '../context.js';

/** What opening endpoint connections needs of the proxy (always the same object: TLS sessions are cached per it). */
export type ConnectDeps = Pick<ProxyContext, 'config' | 'tls' | 'metrics' | 'revocations' | 'ownLocalClients' | 'log' | 'clock'>;
import { expectIdentity } from '../tls/identity.js';
import { revokedEndpointError, withRevocationCheck } from '../control/revocation-check.js';
import { labelString } from '../../core/metrics/registry.js';

export function peerKey(ep: ResolvedEndpoint): string {
  return `${ep.address}:${ep.inboundPort}|${ep.identity ?? ''}|${ep.serverName ?? ''}`;
}

type IdentityCheck = ReturnType<typeof expectIdentity>;

/** Per proxy: TLS sessions to resume (they carry this proxy's client certificate) and identity checks. */
interface ConnectState {
  sessions: Map<string, Buffer>;
  checkers: Map<string, IdentityCheck>;
}
const states = new WeakMap<ConnectDeps, ConnectState>();

function stateOf(ctx: ConnectDeps): ConnectState {
  let st = states.get(ctx);
  if (!st) {
    const created: ConnectState = { sessions: new Map(), checkers: new Map() };
    st = created;
    states.set(ctx, created);
    // A new deny list invalidates resumable sessions (a resumed session skips the certificate check).
    ctx.revocations?.subscribe(() => created.sessions.clear());
  }
  return st;
}
const peerLabels = new Map<string, string>();

/** tcp_* labels of a connection to a discovered endpoint, with its dst_* labels, built once per endpoint object. */
const endpointLabels = new WeakMap<ResolvedEndpoint, string>();
function labelsOfEndpoint(ep: ResolvedEndpoint, addr: string): string {
  let l = endpointLabels.get(ep);
  if (!l) {
    l = labelString({ direction: 'outbound', peer: 'dst', target_addr: addr, tls: ep.identity ? 'true' : 'no_identity', server_id: ep.identity, ...ep.labels });
    endpointLabels.set(ep, l);
  }
  return l;
}

/** tcp_* labels of a connection to a peer or endpoint, built once per target. */
function connectionLabels(addr: string, identity: string | undefined, direction = 'outbound'): string {
  const key = `${direction}|${addr}|${identity ?? ''}`;
  let l = peerLabels.get(key);
  if (!l) {
    l = labelString({ direction, peer: 'dst', target_addr: addr, tls: identity ? 'true' : 'no_identity', server_id: identity });
    if (peerLabels.size > 4096) peerLabels.clear();
    peerLabels.set(key, l);
  }
  return l;
}

/** Opens mTLS to the peer; the socket emits 'secureConnect' or 'error' (connect timeout included). */
export function connectPeer(ctx: ConnectDeps, ep: ResolvedEndpoint, alpn: string): TLSSocket {
  const identity = ep.identity!;
  const { sessions, checkers } = stateOf(ctx);
  let check = checkers.get(identity);
  if (!check) checkers.set(identity, (check = withRevocationCheck(expectIdentity(identity), ctx.revocations)));
  const revoked = revokedEndpointError(ctx.revocations, ep.serverName);
  const key = `${peerKey(ep)}|${alpn}|${ctx.tls.version}`;
  const socket = tlsConnect({
    host: ep.address,
    port: ep.inboundPort,
    servername: ep.serverName || undefined,
    secureContext: ctx.tls.client,
    ALPNProtocols: [alpn],
    checkServerIdentity: check,
    session: sessions.get(key),
    minVersion: 'TLSv1.3',
  });
  socket.setNoDelay(true);
  // Resumed sessions skip the certificate check, so a revoked endpoint is refused before the handshake.
  if (revoked) process.nextTick(() => socket.destroy(revoked));
  socket.once('secureConnect', () => ctx.metrics.trackConnection(labelsOfEndpoint(ep, `${ep.address}:${ep.inboundPort}`), socket));
  socket.on('session', (s) => {
    if (sessions.size > 1024) sessions.clear();
    sessions.set(key, s);
  });
  armConnectTimeout(ctx.clock, socket, ctx.config.timeouts.connectMs, 'secureConnect');
  return socket;
}

/**
 * Plain TCP to an endpoint without identity (pass-through for unmeshed workloads), or inbound to the
 * local app; `ep` (a discovered endpoint) adds its dst_* labels to the tcp_* series.
 */
export function connectPlain(ctx: ConnectDeps, host: string, port: number, direction: 'inbound' | 'outbound' = 'outbound', ep?: ResolvedEndpoint): Socket {
  const socket = netConnect({ host, port, noDelay: true });
  if (direction === 'inbound') markOwnLocalClient(ctx, socket);
  const labels = ep ? labelsOfEndpoint(ep, `${host}:${port}`) : connectionLabels(`${host}:${port}`, undefined, direction);
  socket.once('connect', () => ctx.metrics.trackConnection(labels, socket));
  armConnectTimeout(ctx.clock, socket, ctx.config.timeouts.connectMs, 'connect');
  return socket;
}

/**
 * Plain TCP to a destination outside the mesh (a captured connection that discovery knows nothing
 * of), labelled as Linkerd labels forwarded traffic: no identity, not provided by service discovery.
 */
export function connectUnmeshed(ctx: ConnectDeps, host: string, port: number): Socket {
  const socket = netConnect({ host, port, noDelay: true });
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  let labels = peerLabels.get(`unmeshed|${addr}`);
  if (!labels) {
    labels = labelString({ direction: 'outbound', peer: 'dst', target_addr: addr, tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery' });
    if (peerLabels.size > 4096) peerLabels.clear();
    peerLabels.set(`unmeshed|${addr}`, labels);
  }
  const l = labels;
  socket.once('connect', () => ctx.metrics.trackConnection(l, socket));
  armConnectTimeout(ctx.clock, socket, ctx.config.timeouts.connectMs, 'connect');
  return socket;
}

/**
 * Remembers a connection the inbound opens to a local app by its local port, so the admin server can
 * tell it from a local user's client: mutations (shutdown, log level) never come through the inbound.
 */
export function markOwnLocalClient(ctx: Pick<ProxyContext, 'ownLocalClients'>, socket: Socket): Socket {
  socket.once('connect', () => {
    const port = socket.localPort;
    if (port === undefined) return;
    ctx.ownLocalClients.add(port);
    socket.once('close', () => ctx.ownLocalClients.delete(port));
  });
  return socket;
}

function armConnectTimeout(clock: Clock, socket: Socket, ms: number, event: string): void {
  const t = clock.setTimeout(() => {
    const err = new Error(`connect timeout after ${ms} ms`) as Error & { code: string };
    err.code = 'ETIMEDOUT';
    socket.destroy(err);
  }, ms);
  socket.once(event, () => clock.clearTimeout(t));
  socket.once('close', () => clock.clearTimeout(t));
}
