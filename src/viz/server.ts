// The viz API (HTTPS, default port 8084): JSON for stat, edges, routes and check, NDJSON for tap,
// Prometheus HTTP service discovery, and the dashboard page. Everything under /api needs an admin
// bearer token (auth.ts); the page itself holds no data.
import https from 'node:https';
import http from 'node:http';
import type { ServiceCertificate } from '../core/component.js';
import { OutpostError, isOutpostError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { bearerToken, type AdminAuthenticator } from './auth.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { parseResource, parseWindow } from './resources.js';
import { edges, routes, stat, type VizSources } from './service.js';
import { opaqueNotice, relayTap, tapTargets } from './tap-relay.js';
import { listen } from '../core/http-listener.js';

export interface VizServerOptions {
  host: string;
  port: number;
  /** HTTPS when given (the viz service certificate), else plain HTTP (tests of pure routing only). */
  tls?: { cert: () => ServiceCertificate };
  trustAnchorsPem: () => string;
  auth: AdminAuthenticator;
  sources: VizSources;
  /** Scrape status of every target, for `viz check`: the built-in scraper's, or Prometheus' own `up`. */
  targetStatus: () => TargetStatus[] | Promise<TargetStatus[]>;
  scrapeIntervalMs: number;
  log: Logger;
}

export interface TargetStatus {
  workload: string;
  adminAddress: string;
  up: boolean;
  lastError?: string;
}

export interface RunningVizServer {
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, e: unknown): void {
  if (isOutpostError(e)) {
    const status = e.code === 'INVALID_ARGUMENT' ? 400 : e.code === 'NOT_FOUND' ? 404 : 500;
    return sendJson(res, status, { error: { code: e.code, message: e.message, field: e.field } });
  }
  sendJson(res, 500, { error: { code: 'INTERNAL', message: (e as Error).message } });
}

export async function startVizServer(opts: VizServerOptions): Promise<RunningVizServer> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(opts, req, res).catch((e) => {
      opts.log.debug('viz request failed', { path: req.url, error: (e as Error).message });
      if (!res.headersSent) sendError(res, e);
      else res.end();
    });
  };
  let server: http.Server;
  if (opts.tls) {
    const c = opts.tls.cert();
    server = https.createServer({ cert: c.chainPem, key: c.keyPem, minVersion: 'TLSv1.2' }, handler);
  } else server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  const listener = await listen(server, opts.port, opts.host);
  return {
    port: listener.port,
    server,
    close: () => listener.close(),
  };
}

async function handle(opts: VizServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://viz');
  const path = url.pathname;
  if (req.method !== 'GET') return sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: 'only GET is served' } });
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:" });
    return void res.end(DASHBOARD_HTML);
  }
  if (path === '/healthz') return sendJson(res, 200, { ok: true });
  if (!path.startsWith('/api/')) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such path ${path}` } });
  if (!(await opts.auth.isAdmin(bearerToken(req.headers.authorization)))) {
    res.setHeader('www-authenticate', 'Bearer realm="outpost-viz"');
    return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'the viz API needs an admin bearer token (the token of the kubeconfig `outpost up` writes)' } });
  }
  const q = url.searchParams;
  const namespace = q.get('namespace') || 'default';
  const allNamespaces = q.get('all') === 'true';
  const windowMs = parseWindow(q.get('window') ?? undefined);
  const src = opts.sources;
  switch (path) {
    case '/api/stat': {
      const resource = parseResource(q.get('resource') ?? '', 'resource');
      const fromText = q.get('from');
      const from = fromText ? { ...parseResource(fromText, 'from'), namespace: q.get('fromNamespace') || namespace } : undefined;
      const rows = await stat(src, { resource, namespace, allNamespaces, windowMs, from });
      if (resource.name && !rows.length) throw new OutpostError('NOT_FOUND', `${resource.kind}/${resource.name} not found in namespace ${namespace}`, { field: 'resource' });
      return sendJson(res, 200, { windowMs, backend: src.backend.kind, rows });
    }
    case '/api/edges':
      return sendJson(res, 200, { windowMs, rows: await edges(src, { namespace, allNamespaces, windowMs }) });
    case '/api/routes': {
      const resource = parseResource(q.get('resource') ?? '', 'resource');
      if (resource.kind !== 'service' || !resource.name) throw new OutpostError('INVALID_ARGUMENT', 'routes: the target must be svc/NAME', { field: 'resource' });
      return sendJson(res, 200, { windowMs, ...(await routes(src, { service: resource.name, namespace, windowMs })) });
    }
    case '/api/workloads':
      return sendJson(res, 200, { rows: src.workloads().map((w) => ({ ...w, proxyUp: src.proxyUp(w) })) });
    case '/api/check': {
      let targets: TargetStatus[] = [];
      let targetsError: string | undefined;
      try {
        targets = await opts.targetStatus();
      } catch (e) {
        targetsError = (e as Error).message;
      }
      const scrapable = src.workloads().filter((w) => w.adminAddress).length;
      return sendJson(res, 200, { backend: src.backend.kind, scrapeIntervalMs: opts.scrapeIntervalMs, workloads: src.workloads().length, scrapable, targets, targetsError });
    }
    case '/api/prometheus-sd':
      // Prometheus http_sd_configs: one group per proxy, labelled like the in-memory pipeline does.
      return sendJson(
        res,
        200,
        src.workloads().filter((w) => w.adminAddress).map((w) => ({ targets: [w.adminAddress], labels: { ...w.labels } })),
      );
    case '/api/tap': {
      const resource = parseResource(q.get('resource') ?? '', 'resource');
      const targets = tapTargets(src.workloads(), resource, namespace);
      if (!targets.length) throw new OutpostError('NOT_FOUND', `no workload matches ${q.get('resource')} in namespace ${namespace}`, { field: 'resource' });
      if (!opts.tls) throw new OutpostError('NOT_IMPLEMENTED', 'tap needs the identity component (no viz certificate)');
      const limit = Number(q.get('limit') ?? 0);
      const notices = [];
      for (const w of targets) {
        const rows = w.allPortsOpaque ? [] : await stat(src, { resource: { kind: 'externalworkload', name: w.labels.workload }, namespace: w.labels.namespace, allNamespaces: false, windowMs: 60_000 });
        const n = opaqueNotice(w, rows[0]?.protocol === 'tcp');
        if (n) notices.push(n);
      }
      return relayTap({
        res,
        targets,
        notices,
        filter: { method: q.get('method') || undefined, pathPrefix: q.get('path') || undefined, authority: q.get('authority') || undefined, limit: Number.isFinite(limit) ? limit : 0 },
        cert: opts.tls.cert,
        trustAnchorsPem: opts.trustAnchorsPem,
        onError: (w, err) => opts.log.debug('tap stream ended', { workload: w, error: err.message }),
      });
    }
    default:
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such path ${path}` } });
  }
}
