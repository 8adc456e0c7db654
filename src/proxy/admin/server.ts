// The admin endpoint (default 0.0.0.0:4191, like Linkerd, so the viz can scrape it): /live, /ready
// (only once credentials are held), /metrics (Prometheus text), GET /proxy-log-level, and the
// mutations PUT /proxy-log-level and POST /shutdown (off unless admin.shutdownEnabled, as Linkerd
// after CVE-2024-40632): from loopback clients only, never from the proxy's own inbound connections.
import { createServer, type Server, type IncomingMessage } from 'node:http';
import type { ProxyContext } from '../context.js';
import { isLogLevel } from '../../core/log.js';
import { guardListener } from '../transport/pending-guard.js';

export interface AdminHooks {
  ready(): boolean;
  shutdown(): void;
}

function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}

/** Why a mutation is refused, or undefined: a loopback client that is not one of the proxy's own connections. */
function mutationRefusal(ctx: ProxyContext, req: IncomingMessage, what: string): string | undefined {
  if (!isLoopback(req)) return `${what} is only allowed from loopback\n`;
  // The inbound's connections to local apps come from loopback too: a peer must never drive the admin.
  if (ctx.ownLocalClients.has(req.socket.remotePort ?? -1)) return `${what} is not allowed through the proxy\n`;
  return undefined;
}

export function adminServer(ctx: ProxyContext, hooks: AdminHooks): Server {
  const t = ctx.config.timeouts;
  // Later requests on a keep-alive connection get Node's own header deadline; the first one the guard's.
  const server = createServer({ headersTimeout: t.headerMs, requestTimeout: t.headerMs + t.requestMs, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(t.headerMs / 4))) }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === '/live' && req.method === 'GET') return send(200, 'live\n');
    if (path === '/ready' && req.method === 'GET') return hooks.ready() ? send(200, 'ready\n') : send(503, 'not ready\n');
    if (path === '/metrics' && req.method === 'GET') return send(200, ctx.metrics.render(), 'text/plain; version=0.0.4');
    if (path === '/shutdown') {
      if (req.method !== 'POST') return send(405, 'use POST\n');
      if (!ctx.config.admin.shutdownEnabled) return send(404, 'shutdown is disabled (set admin.shutdownEnabled: true in the proxy config to allow it from loopback)\n');
      const refused = mutationRefusal(ctx, req, 'shutdown');
      if (refused) return send(403, refused);
      send(200, 'shutdown\n');
      setImmediate(hooks.shutdown);
      return;
    }
    if (path === '/proxy-log-level') {
      if (req.method === 'GET') return send(200, ctx.log.level() + '\n');
      if (req.method === 'PUT') {
        const refused = mutationRefusal(ctx, req, 'log level changes');
        if (refused) return send(403, refused);
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          const level = body.trim();
          if (!isLogLevel(level)) return send(400, `log level must be one of debug, info, warn, error (got "${level}")\n`);
          ctx.log.setLevel(level);
          ctx.log.info('log level changed', { level });
          send(204, '');
        });
        return;
      }
      return send(405, 'use GET or PUT\n');
    }
    send(404, 'not found\n');
  });
  guardListener(ctx, 'admin', server);
  return server;
}
