// Inbound opaque-ALPN connections: read the transport header (target port), then either pipe the
// bytes to 127.0.0.1:<port> after a connection-level authorization (denied -> closed, counted) or,
// unless the port or the client said opaque, detect HTTP inside and authorize each request.
import type { TLSSocket } from 'node:tls';
import type { ProxyContext } from '../context.js';
import type { InboundConnection, InboundPolicies } from './policies.js';
import { authorizeConnection } from './authorize.js';
import type { InboundTargets } from './target-ports.js';
import { decodeTransportHeader, HEADER_LENGTH } from '../transport/header.js';
import { detect, pipeBoth } from '../transport/detect.js';
import type { Http2Server } from 'node:http2';
import { connectPlain, type ConnectDeps } from '../outbound/connect.js';

/** What the inbound's opaque path needs of the proxy (the same object as for connecting). */
type OpaqueDeps = ConnectDeps & Pick<ProxyContext, 'clock'>;

export interface InboundHandlers {
  http1(socket: TLSSocket, conn: InboundConnection): void;
  h2: Http2Server;
}

export function acceptOpaque(ctx: OpaqueDeps, policies: InboundPolicies, targets: InboundTargets, socket: TLSSocket, conn: InboundConnection, http: InboundHandlers): void {
  let buf: Buffer | undefined;
  const timer = ctx.clock.setTimeout(() => socket.destroy(), ctx.config.timeouts.detectMs);
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const h = decodeTransportHeader(buf);
    if (h === undefined) return;
    ctx.clock.clearTimeout(timer);
    socket.removeListener('data', onData);
    conn.established();
    if (h instanceof Error) {
      ctx.log.debug('bad transport header', { client: conn.clientId, reason: h.message });
      socket.destroy();
      return;
    }
    socket.pause();
    if (buf.length > HEADER_LENGTH) socket.unshift(buf.subarray(HEADER_LENGTH));
    conn.headerPort = h.port;
    // Right after a start the port's policy may not be known yet: wait for it (bounded).
    const waitMs = ctx.config.timeouts.detectMs;
    policies.whenKnown(h.port, waitMs, () =>
      targets.whenKnown(h.port, waitMs, () => {
        // An undeclared port, or one of the proxy's own: closed before detection or any local connect.
        if (targets.check(h.port, policies.current(h.port), conn.clientId)) return socket.destroy();
        afterHeader(ctx, policies, socket, conn, http, h.opaque);
      }),
    );
  };
  socket.on('data', onData);
}

function afterHeader(ctx: OpaqueDeps, policies: InboundPolicies, socket: TLSSocket, conn: InboundConnection, http: InboundHandlers, clientSaysOpaque: boolean): void {
  const st = conn.port(conn.headerPort, policies);
  if (clientSaysOpaque || st.policy?.protocol === 'opaque') return forwardLocal(ctx, policies, socket, conn);
  socket.resume();
  detect(socket, ctx.clock, ctx.config.timeouts.detectMs, (kind) => {
    if (kind === 'http1') {
      http.http1(socket, conn);
      socket.resume();
    } else if (kind === 'h2') http.h2.emit('connection', socket);
    else forwardLocal(ctx, policies, socket, conn);
  });
}

function forwardLocal(ctx: ConnectDeps, policies: InboundPolicies, socket: TLSSocket, conn: InboundConnection): void {
  const port = conn.headerPort;
  const st = conn.port(port, policies);
  const d = authorizeConnection(st.policy, conn.clientId, conn.clientIp);
  if (!d.allowed) {
    conn.denyCell(st, false).value++;
    ctx.log.debug('connection denied', { port, client: conn.clientId, reason: d.labels.reason });
    socket.destroy();
    return;
  }
  conn.allowCell(st, false, d.labels).value++;
  // Counted as peer="dst" once connected; a refused or timed-out connect closes the client's
  // connection with an errno label, so the app's failures show in its success rate.
  const local = connectPlain(ctx, '127.0.0.1', port, 'inbound');
  const onFail = (e: Error) => {
    ctx.log.debug('local app connect failed', { port, reason: e.message });
    ctx.metrics.markFailed(socket, e);
    socket.destroy();
  };
  local.once('error', onFail);
  local.once('connect', () => {
    local.removeListener('error', onFail);
    pipeBoth(socket, local, ctx.config.timeouts.idleMs);
  });
}
