// The API load generator shared by bench/apiserver.ts and bench/apiserver-vs-kube.ts: concurrent
// creates of ExternalWorkloads over HTTPS, timed lists, and watch fan-out latency (label patches
// stamped with their send time, measured at each watcher). Any Kubernetes-style API server: the
// target carries its URL and credentials (bearer token or client certificate).
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';

export interface LoadTarget {
  url: string;
  ca: string;
  token?: string;
  cert?: string;
  key?: string;
}

export interface Reply {
  status: number;
  text: string;
}

export type Call = (method: string, path: string, body?: unknown, contentType?: string) => Promise<Reply>;

/** A keep-alive client for `target` with up to `sockets` connections. */
export function client(target: LoadTarget, sockets: number): { call: Call; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, ca: target.ca, cert: target.cert, key: target.key });
  const call: Call = (method, path, body, contentType = 'application/json') => {
    const u = new URL(target.url + path);
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const headers = { ...auth(target), ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}) };
      const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  };
  return { call, close: () => agent.destroy() };
}

const auth = (t: LoadTarget): Record<string, string> => (t.token ? { Authorization: `Bearer ${t.token}` } : {});

export const EW_PATH = (ns: string) => `/apis/workload.linkerd.io/v1beta1/namespaces/${ns}/externalworkloads`;

/** ExternalWorkload number i (addresses in the benchmarking range 198.18.0.0/15: data only, never dialled). */
export function workload(i: number, ns: string) {
  return {
    apiVersion: 'workload.linkerd.io/v1beta1',
    kind: 'ExternalWorkload',
    metadata: { name: `vm-${i}`, labels: { app: `app-${i % 20}` } },
    spec: {
      meshTLS: { identity: `spiffe://cluster.local/ns/${ns}/sa/app-${i % 20}`, serverName: `vm-${i}.${ns}.svc.cluster.local` },
      workloadIPs: [{ ip: `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}` }],
      ports: [{ name: 'http', port: 8080 }],
    },
  };
}

/** Creates `objects` workloads with `concurrency` requests in flight; creates per second. */
export async function createWorkloads(call: Call, ns: string, objects: number, concurrency: number): Promise<{ perSecond: number; seconds: number }> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < objects; i = next++) {
        const r = await call('POST', EW_PATH(ns), workload(i, ns));
        if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { perSecond: objects / seconds, seconds };
}

/** Best of `rounds` full lists (after one warm-up): milliseconds and the item count. */
export async function timeList(call: Call, path: string, rounds = 3): Promise<{ bestMs: number; items: number }> {
  await call('GET', path);
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    const r = await call('GET', path);
    times.push(performance.now() - s);
    items = JSON.parse(r.text).items.length;
  }
  return { bestMs: Math.min(...times), items };
}

export interface WatchFigures {
  p50: number;
  p99: number;
  delivered: number;
  expected: number;
}

/**
 * Opens `watchers` watches (label bench=yes), sends `updates` label patches (5 in flight) stamped
 * with their send time, and returns delivery latency percentiles over every watcher's events.
 */
export async function watchFanout(target: LoadTarget, call: Call, ns: string, objects: number, watchers: number, updates: number): Promise<WatchFigures> {
  const path = EW_PATH(ns);
  const latencies: number[] = [];
  const streams = await Promise.all(Array.from({ length: watchers }, () => openWatch(target, `${path}?watch=true&resourceVersion=0&labelSelector=bench%3Dyes&allowWatchBookmarks=true`, latencies)));
  // Every watcher is registered once its response headers came; give the server a moment more.
  await new Promise((r) => setTimeout(r, 500));
  const base = latencies.length;
  let sent = 0;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      for (let i = sent++; i < updates; i = sent++) {
        const at = performance.timeOrigin + performance.now();
        const r = await call('PATCH', `${path}/vm-${i % objects}`, { metadata: { annotations: { 'bench/sent': String(at) }, labels: { bench: 'yes', round: String(i) } } }, 'application/merge-patch+json');
        if (r.status !== 200) throw new Error(`patch ${i}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }),
  );
  const expected = updates * watchers;
  const deadline = Date.now() + 30_000;
  while (latencies.length - base < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const s of streams) s.destroy();
  const delivered = latencies.slice(base).sort((a, b) => a - b);
  const p = (q: number) => delivered[Math.min(delivered.length - 1, Math.floor(q * delivered.length))] ?? NaN;
  return { p50: p(0.5), p99: p(0.99), delivered: delivered.length, expected };
}

/** A watch on its own connection; pushes (receive time - bench/sent annotation) per stamped event. */
function openWatch(target: LoadTarget, path: string, latencies: number[]): Promise<{ destroy(): void }> {
  const u = new URL(target.url + path);
  return new Promise((resolve, reject) => {
    const opts = { host: u.hostname, port: u.port, path: u.pathname + u.search, ca: target.ca, cert: target.cert, key: target.key, agent: false as const, headers: auth(target) };
    const req = request(opts, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const sent = /"bench\/sent":"([\d.]+)"/.exec(line);
          if (sent) latencies.push(performance.timeOrigin + performance.now() - Number(sent[1]));
        }
      });
      res.on('error', () => {});
      resolve({ destroy: () => req.destroy() });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') || e.message.includes('aborted') ? undefined : reject(e)));
    req.end();
  });
}
