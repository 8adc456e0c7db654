// Outbound entry points for the local app: the HTTP proxy port (authority from absolute-form or
// Host; connections the capture rules redirected there are routed by their original destination,
// see captured.ts) and one listener per configured upstream (fixed authority; detected HTTP is
// balanced per request, anything else is piped as opaque TCP).
import { createServer as netServer, type Server, type Socket } from 'node:net';
import { createServer as httpServer, type Server as HttpServer } from 'node:http';
import { createServer as h2Server, type ServerHttp2Session } from 'node:http2';
import type { ProxyContext } from '../context.js';
import type { UpstreamConfig } from '../config.js';
import type { OutboundHttp } from './http.js';
import { detect, handOver } from '../transport/detect.js';
import { forwardOpaque } from './tcp.js';
import { labelString } from '../../core/metrics/registry.js';
import { redirectedDestination } from '../../core/original-dst.js';
import { forwardToEndpoint, forwardUnmeshed } from './captured.js';
import { ProfileCache, formatTarget } from '../profile-cache.js';

export interface HttpHandlers {
  h1: HttpServer;
  h2: ReturnType<typeof h2Server>;
}

function handlers(ctx: ProxyContext, http: OutboundHttp, authority?: string): HttpHandlers {
  const h1 = httpServer({ keepAliveTimeout: ctx.config.timeouts.idleMs, requestTimeout: 0 }, (req, res) => {
    if (ctx.draining) res.shouldKeepAlive = false;
    http.handleH1(req, res, authority);
  });
  const h2 = h2Server({ settings: { initialWindowSize: 1 << 20 } });
  h2.on('stream', (stream, headers) => http.handleH2(stream, headers, authority));
  h2.on('sessionError', () => {});
  const sessions = new Set<ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  ctx.drainHooks.push(() => {
    h1.closeIdleConnections();
    for (const s of sessions) s.close();
  });
  return { h1, h2 };
}

/**
 * The HTTP proxy for the local app (default 127.0.0.1:4140), which is also where the capture rules
 * redirect the app's outbound TCP: such a connection goes where its original destination says.
 */
export function outboundProxyServer(ctx: ProxyContext, http: OutboundHttp): Server {
  const h = handlers(ctx, http);
  const labels = labelString({ direction: 'outbound', peer: 'src' });
  const serveH1 = (socket: Socket) => (http.relay ? (http.serveRelay(socket), socket.resume()) : handOver(h.h1, socket));
  const captured = new ProfileCache(ctx);
  ctx.drainHooks.push(() => captured.close());
  const byAuthority = new Map<string, ServeAuthority>();
  const serviceServer = (authority: string) => {
    let serve = byAuthority.get(authority);
    if (!serve) byAuthority.set(authority, (serve = authorityServer(ctx, http, authority, 'detect')));
    return serve;
  };
  let warned = false;
  return netServer({ noDelay: true, pauseOnConnect: true }, (socket: Socket) => {
    ctx.metrics.trackConnection(labels, socket);
    socket.on('error', () => {});
    let dst: { address: string; port: number } | undefined;
    try {
      dst = redirectedDestination(socket);
    } catch (e) {
      if (!warned) ctx.log.warn('cannot read original destinations; captured connections are served as HTTP proxy requests', { reason: (e as Error).message });
      warned = true;
    }
    if (dst) {
      const { address, port } = dst;
      return captured.lookup(formatTarget(address, port), ctx.config.timeouts.connectMs, (p) => {
        if (socket.destroyed) return;
        if (p?.service) return serviceServer(`${p.service}:${port}`)(socket, p.opaque);
        if (p?.endpoint) return forwardToEndpoint(ctx, p.endpoint, socket, p.opaque);
        forwardUnmeshed(ctx, socket, address, port);
      });
    }
    socket.resume();
    detect(socket, ctx.clock, ctx.config.timeouts.detectMs, (kind) => {
      if (kind === 'http1') serveH1(socket);
      else if (kind === 'h2') h.h2.emit('connection', socket);
      else socket.destroy(); // no authority to route opaque bytes by
    });
  });
}

/** Serves one (paused) app connection to a logical authority; `opaque` skips protocol detection. */
type ServeAuthority = (socket: Socket, opaque?: boolean) => void;

function authorityServer(ctx: ProxyContext, http: OutboundHttp, authority: string, protocol: UpstreamConfig['protocol']): ServeAuthority {
  const h = handlers(ctx, http, authority);
  const serveH1 = (socket: Socket) => (http.relay ? (http.serveRelay(socket, authority), socket.resume()) : handOver(h.h1, socket));
  return (socket, opaqueHint) => {
    // Looked up per connection: an authority left idle is evicted, and made again on use.
    const svc = http.router.get(authority);
    const go = () => {
      if (protocol === 'opaque' || opaqueHint || svc.snapshot?.opaque === true) return forwardOpaque(ctx, svc, socket, true);
      socket.resume();
      detect(socket, ctx.clock, ctx.config.timeouts.detectMs, (kind) => {
        if (kind === 'http1') serveH1(socket);
        else if (kind === 'h2') h.h2.emit('connection', socket);
        else forwardOpaque(ctx, svc, socket, false);
      });
    };
    if (svc.snapshot) go();
    else svc.whenResolved(ctx.config.timeouts.connectMs, go);
  };
}

/** A per-upstream listener, e.g. 127.0.0.1:5432 for postgres.hybrid-app:5432. */
export function upstreamServer(ctx: ProxyContext, http: OutboundHttp, u: UpstreamConfig): Server {
  const serve = authorityServer(ctx, http, u.authority, u.protocol);
  const labels = labelString({ direction: 'outbound', peer: 'src', authority: u.authority });
  return netServer({ noDelay: true, pauseOnConnect: true }, (socket: Socket) => {
    ctx.metrics.trackConnection(labels, socket);
    socket.on('error', () => {});
    serve(socket);
  });
}
