// What `outpost dashboard` serves: a local HTTP port (127.0.0.1 by default) that forwards GETs to
// the viz API with the admin token of the CLI's kubeconfig, like `linkerd viz dashboard`'s
// port-forward. Requests whose Host is not this listener are refused (no DNS rebinding).
import http from 'node:http';
import https from 'node:https';
import type { VizEndpoint } from './client.js';
import { hostPort } from '../core/host-port.js';
import { listen } from '../core/http-listener.js';

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

export async function startDashboardProxy(opts: { viz: VizEndpoint; host: string; port: number }): Promise<RunningDashboard> {
  const upstream = new URL(opts.viz.url);
  const lib = upstream.protocol === 'https:' ? https : http;
  let allowedHosts = new Set<string>();
  const server = http.createServer((req, res) => {
    if (!allowedHosts.has(req.headers.host ?? '') || req.method !== 'GET') {
      res.writeHead(req.method !== 'GET' ? 405 : 403, { 'content-type': 'text/plain' });
      return void res.end(req.method !== 'GET' ? 'only GET\n' : 'unexpected Host header\n');
    }
    const up = lib.request(
      new URL(req.url ?? '/', upstream),
      { method: 'GET', headers: { accept: req.headers.accept ?? '*/*', ...(opts.viz.token ? { authorization: `Bearer ${opts.viz.token}` } : {}) }, ...(opts.viz.ca ? { ca: opts.viz.ca } : {}), agent: false },
      (upRes) => {
        const headers: Record<string, string> = { 'content-type': upRes.headers['content-type'] ?? 'application/octet-stream', 'cache-control': 'no-store' };
        const csp = upRes.headers['content-security-policy'];
        if (typeof csp === 'string') headers['content-security-policy'] = csp;
        res.writeHead(upRes.statusCode ?? 502, headers);
        res.flushHeaders();
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'API_UNREACHABLE', message: `viz at ${upstream.host}: ${e.message}` } }));
    });
    res.on('close', () => up.destroy());
    up.end();
  });
  const { port, close } = await listen(server, opts.port, opts.host);
  allowedHosts = new Set([hostPort(opts.host, port), `localhost:${port}`]);
  return {
    url: `http://${hostPort(opts.host, port)}/`,
    close: () => close(),
  };
}
