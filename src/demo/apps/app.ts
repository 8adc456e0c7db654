// The demo's application processes (one per workload, inside its network namespace): the postgres
// and redis servers, and the api-server with its built-in load generator. Each prints one JSON
// stats line a second on stdout, read by the demo's monitor.
import { Agent, createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';
import { pgQuery, startPgServer } from './pgwire.js';
import { respCommands, startRespServer } from './resp.js';

export interface OpCounters {
  ok: number;
  fail: number;
  lastError?: string;
}

export interface AppStats {
  app: string;
  served?: { connections: number; requests: number };
  /** api-server: client-observed outcomes of its calls, per upstream. */
  calls?: Record<string, OpCounters>;
  /** redis-cache: attempts to reach postgres that the policy should refuse. */
  intruder?: { attempts: number; refused: number; admitted: number };
}

export interface HostPort {
  host: string;
  port: number;
}

export interface DemoAppOptions {
  kind: 'postgres' | 'redis' | 'api-server';
  /** Where the app listens (postgres, redis: the workload port on 127.0.0.1; api-server: its HTTP port). */
  listen: HostPort;
  /** postgres: HTTP /health for the guide's probe. */
  healthPort?: number;
  /** api-server: the proxy's upstream listeners. */
  postgres?: HostPort;
  redis?: HostPort;
  /** api-server: load cycles per second. */
  rate?: number;
  /** redis: the proxy listener that leads to postgres (should be refused by policy). */
  intruderTarget?: HostPort;
  /** api-server: send the load as the guide's web tier would — HTTP to this authority through the proxy's outbound HTTP proxy. */
  web?: { via: HostPort; authority: string };
}

/** GET http://AUTHORITY/orders/ID through an HTTP proxy (absolute-form request, like curl -x). */
function webRequest(via: HostPort, authority: string, id: number, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: via.host, port: via.port, path: `http://${authority}/orders/${id}`, headers: { host: authority }, agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`web: HTTP ${res.statusCode} ${body.trim().slice(0, 80)}`))));
    });
    req.on('timeout', () => req.destroy(new Error('web: timed out')));
    req.on('error', reject);
    req.end();
  });
}

function record(c: OpCounters, p: Promise<unknown>): Promise<boolean> {
  return p.then(
    () => (c.ok++, true),
    (e: Error) => {
      c.fail++;
      c.lastError = e.message;
      return false;
    },
  );
}

/** One api-server request: read the order from postgres, refresh it in the redis cache, read it back. */
async function orderCycle(opts: DemoAppOptions, calls: Record<string, OpCounters>, id: number): Promise<string | undefined> {
  let order: string | undefined;
  await record(
    calls.postgres,
    pgQuery(opts.postgres!.host, opts.postgres!.port, `SELECT * FROM orders WHERE id = ${id}`).then((r) => {
      if (r.rows.length !== 1) throw new Error(`postgres: expected 1 row, got ${r.rows.length}`);
      order = JSON.stringify(r.rows[0]);
    }),
  );
  if (order === undefined) return undefined;
  await record(
    calls.redis,
    respCommands(opts.redis!.host, opts.redis!.port, [['SET', `order:${id}`, order], ['GET', `order:${id}`]]).then((r) => {
      if (r[1] !== order) throw new Error('redis: GET did not return what SET stored');
    }),
  );
  return order;
}

export async function runDemoApp(opts: DemoAppOptions, emit: (s: AppStats) => void = (s) => process.stdout.write(JSON.stringify(s) + '\n')): Promise<() => Promise<void>> {
  const servers: (Server | HttpServer)[] = [];
  const timers: NodeJS.Timeout[] = [];
  const stats: AppStats = { app: opts.kind };
  if (opts.kind === 'postgres') {
    const { server, stats: s } = await startPgServer(opts.listen.host, opts.listen.port);
    servers.push(server);
    if (opts.healthPort) {
      const health = createHttpServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end(req.url === '/health' ? 'ok\n' : ''));
      await new Promise<void>((r) => health.listen(opts.healthPort, opts.listen.host, r));
      servers.push(health);
    }
    timers.push(setInterval(() => emit({ ...stats, served: { connections: s.connections, requests: s.queries } }), 1000));
  } else if (opts.kind === 'redis') {
    const { server, stats: s } = await startRespServer(opts.listen.host, opts.listen.port);
    servers.push(server);
    const intruder = { attempts: 0, refused: 0, admitted: 0 };
    if (opts.intruderTarget) {
      const t = opts.intruderTarget;
      timers.push(
        setInterval(() => {
          // Refused = the proxy took the connection and closed it before postgres answered (policy);
          // a listener that is not up yet (ECONNREFUSED) proves nothing and is not counted.
          intruder.attempts++;
          pgQuery(t.host, t.port, 'SELECT 1', 2000).then(
            () => intruder.admitted++,
            (e: Error) => /closed before authentication|ECONNRESET/.test(e.message) && intruder.refused++,
          );
        }, 2000),
      );
    }
    timers.push(setInterval(() => emit({ ...stats, served: { connections: s.connections, requests: s.commands }, ...(opts.intruderTarget ? { intruder } : {}) }), 1000));
  } else {
    const calls: Record<string, OpCounters> = { postgres: { ok: 0, fail: 0 }, redis: { ok: 0, fail: 0 }, ...(opts.web ? { web: { ok: 0, fail: 0 } } : {}) };
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let served = 0;
    const http = createHttpServer((req, res) => {
      const m = /^\/orders\/(\d+)$/.exec(req.url ?? '');
      if (!m) return void res.writeHead(404).end('try GET /orders/42\n');
      served++;
      void orderCycle(opts, calls, Number(m[1])).then((o) => res.writeHead(o ? 200 : 502, { 'content-type': 'application/json' }).end((o ?? '{"error":"upstream failed"}') + '\n'));
    });
    await new Promise<void>((r, j) => (http.once('error', j), http.listen(opts.listen.port, opts.listen.host, r)));
    servers.push(http);
    // The built-in load generator: `rate` order lookups a second, at most 8 in flight; with `web`,
    // as HTTP requests to the api-server Service through the mesh (the guide's web tier → API hop).
    let inFlight = 0;
    const rate = opts.rate ?? 5;
    timers.push(
      setInterval(() => {
        if (inFlight >= 8) return;
        inFlight++;
        const id = 1 + Math.floor(Math.random() * 1000);
        const call = opts.web ? record(calls.web, webRequest(opts.web.via, opts.web.authority, id, agent)) : orderCycle(opts, calls, id);
        void call.finally(() => inFlight--);
      }, Math.max(10, Math.round(1000 / rate))),
    );
    timers.push(setInterval(() => emit({ ...stats, served: { connections: served, requests: served }, calls }), 1000));
  }
  return async () => {
    for (const t of timers) clearInterval(t);
    for (const s of servers) (s as HttpServer).closeAllConnections?.();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
}
