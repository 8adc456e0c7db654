// The control plane's admin endpoint (default 127.0.0.1:9990, like Linkerd's controllers):
// /metrics gathers every component's Prometheus text; /live and /ready for supervisors.
import { createServer, type Server } from 'node:http';
import { OutpostError } from '../core/errors.js';
import { hostPort } from '../core/host-port.js';
import { listen } from '../core/http-listener.js';

export interface AdminServer {
  address: string;
  close(): Promise<void>;
}

export async function startAdminServer(opts: { host: string; port: number; metrics: () => string; ready: () => boolean }): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end('method not allowed\n');
    } else if (path === '/metrics') {
      let body: string;
      try {
        body = opts.metrics();
      } catch (e) {
        res.writeHead(500).end(`metrics failed: ${(e as Error).message}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    } else if (path === '/live') {
      res.writeHead(200).end('live\n');
    } else if (path === '/ready') {
      const ready = opts.ready();
      res.writeHead(ready ? 200 : 503).end(ready ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404).end('not found: try /metrics, /live or /ready\n');
    }
  });
  const listener = await listen(server, opts.port, opts.host).catch((e: Error) => {
    throw new OutpostError('CONFIG_INVALID', `cannot listen on ${opts.host}:${opts.port} for the admin endpoint: ${e.message}`, { field: 'admin-port' });
  });
  return {
    address: hostPort(opts.host, listener.port),
    close: () => listener.close(),
  };
}
