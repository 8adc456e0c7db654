// The inbound listener (default 4143): TLS 1.3 with client certificates required and verified
// against the trust anchors; the client's identity is its URI SAN; ALPN picks the next layer
// (h2 = HTTP between proxies, outpost.tcp/1 = transport header + bytes). See ADR 0006.
import { createServer as tlsServer, type Server, type TLSSocket } from 'node:tls';
import { createServer as h2Server, type ServerHttp2Session } from 'node:http2';
import type { ProxyContext } from '../context.js';
import { serverTlsOptions, peerIdentity } from '../tls/identity.js';
import { ALPN_H2, ALPN_HTTP1, ALPN_TCP } from '../transport/header.js';
import { InboundConnection, InboundPolicies } from './policies.js';
import { CONN, InboundHttp } from './http.js';
import { acceptOpaque } from './tcp.js';
import { InboundTargets } from './target-ports.js';
import { labelString } from '../../core/metrics/registry.js';
import { closeRevokedClients, refuseRevokedClient } from '../control/revocation-check.js';
import { proxyPendingConnections } from '../transport/pending-guard.js';

export interface InboundServer {
  server: Server;
  /** Stops accepting; asks HTTP/2 peers to go away once their streams finish. */
  drain(): void;
  /** Drops every connection still open. */
  destroy(): void;
}

export function inboundServer(ctx: ProxyContext): InboundServer {
  const creds = ctx.tls.creds!;
  const policies = new InboundPolicies(ctx);
  const targets = new InboundTargets(ctx);
  const http = new InboundHttp(ctx, policies, targets);
  const h2 = h2Server({ settings: { initialWindowSize: 1 << 20, maxConcurrentStreams: 1000 } });
  const sessions = new Set<ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.on('error', () => {});
    if (ctx.draining) s.close();
  });
  h2.on('stream', http.onStream);
  const handlers = { http1: (socket: TLSSocket, conn: InboundConnection) => http.serveRelay(socket, conn), h2 };
  const sockets = new Set<TLSSocket>();

  // Half-open and slow clients: a handshake deadline, a first-request deadline, a cap per address.
  const pending = proxyPendingConnections('inbound', { headerTimeoutMs: ctx.config.timeouts.headerMs, maxPendingPerClient: ctx.config.listeners.maxPendingPerClient }, ctx.metrics.pendingRefused);
  const server = tlsServer({ ...serverTlsOptions(creds), ALPNProtocols: [ALPN_H2, ALPN_HTTP1, ALPN_TCP], handshakeTimeout: ctx.config.timeouts.tlsHandshakeMs });
  server.on('connection', (raw) => pending.admit(raw));
  const unsubscribe = ctx.tls.onRotate((c) => server.setSecureContext({ ...serverTlsOptions(c), ALPNProtocols: [ALPN_H2, ALPN_HTTP1, ALPN_TCP] } as never));
  const offRevocations = ctx.revocations?.subscribe(() => closeRevokedClients(ctx.revocations!, sockets));
  server.on('tlsClientError', (err, socket) => {
    if ((err as Error & { code?: string }).code === 'ERR_TLS_HANDSHAKE_TIMEOUT') pending.count('handshake_timeout');
    ctx.log.debug('inbound TLS handshake failed', { reason: err.message });
    // With a listener, Node leaves the socket to us: a timed-out handshake would otherwise stay open.
    socket.destroy();
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A revoked workload's certificate is refused even though it still chains to the trust anchors.
    if (ctx.revocations) {
      const client = peerIdentity(socket);
      if (refuseRevokedClient(ctx.revocations, socket)) {
        ctx.log.debug('revoked client refused', { client });
        return;
      }
    }
    const clientId = peerIdentity(socket);
    const addr = `${socket.remoteAddress}:${socket.remotePort}`;
    const conn = new InboundConnection(ctx, clientId, addr, socket.remoteAddress ?? '');
    pending.awaitFirstRequest(socket);
    conn.onEstablished = () => pending.established(socket);
    (socket as unknown as { [CONN]: InboundConnection })[CONN] = conn;
    ctx.metrics.trackConnection(labelString({ direction: 'inbound', peer: 'src', tls: 'true', client_id: clientId }), socket);
    if (socket.alpnProtocol === ALPN_HTTP1) http.serveRelay(socket, conn);
    else if (socket.alpnProtocol === ALPN_H2) h2.emit('connection', socket);
    else if (socket.alpnProtocol === ALPN_TCP) acceptOpaque(ctx, policies, targets, socket, conn, handlers);
    else {
      ctx.log.debug('inbound connection without a known ALPN protocol', { client: clientId });
      socket.destroy();
    }
  });

  return {
    server,
    drain() {
      server.close();
      unsubscribe();
      for (const s of sessions) s.close();
      http.drain();
    },
    destroy() {
      if (server.listening) server.close();
      unsubscribe();
      offRevocations?.();
      for (const s of sockets) s.destroy();
      http.close();
      policies.close();
    },
  };
}
