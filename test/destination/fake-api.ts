// Test helper: a minimal Kubernetes list/watch API over plain HTTP on 127.0.0.1 (any path is a
// collection), so the discovery and policy services can be tested before and apart from the
// embedded API server — including API restarts (close, then listen again on the same port).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KIND_PATHS, type KindName } from '../../src/kube/kinds.js';

interface Obj {
  metadata: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export class FakeApi {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly watchers = new Set<{ path: string; res: http.ServerResponse }>();
  private rv = 1;
  private readonly log: { path: string; type: string; object: Obj; rv: number }[] = [];
  port = 0;
  /** Paths answered 404 (a type the API does not serve). */
  readonly notServed = new Set<string>();
  /** Paths whose lists answer 500. */
  readonly failingLists = new Set<string>();
  /** Watch requests received, per path. */
  readonly watchRequests = new Map<string, number>();
  /** While set, watch requests wait for it before they are answered. */
  holdWatches: Promise<void> | undefined;

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection (watches end). */
  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  put(kind: KindName, obj: Obj): void {
    const path = KIND_PATHS[kind];
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    let coll = this.objects.get(path);
    if (!coll) this.objects.set(path, (coll = new Map()));
    const type = coll.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
    coll.set(key, stored);
    this.emit(path, type, stored);
  }

  delete(kind: KindName, namespace: string | undefined, name: string): void {
    const path = KIND_PATHS[kind];
    const coll = this.objects.get(path);
    const obj = coll?.get(`${namespace ?? ''}/${name}`);
    if (!obj) return;
    coll!.delete(`${namespace ?? ''}/${name}`);
    this.emit(path, 'DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  private emit(path: string, type: string, object: Obj): void {
    this.log.push({ path, type, object, rv: this.rv });
    for (const w of this.watchers) if (w.path === path) w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.notServed.has(url.pathname)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404 }));
      return;
    }
    if (url.searchParams.get('watch') === 'true') {
      this.watchRequests.set(url.pathname, (this.watchRequests.get(url.pathname) ?? 0) + 1);
      if (this.holdWatches) {
        void this.holdWatches.then(() => this.answer(req, res));
        return;
      }
    }
    this.answer(req, res);
  }

  /** Watches open now on a path. */
  openWatches(path: string): number {
    return [...this.watchers].filter((w) => w.path === path && !w.res.destroyed).length;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.socket.destroyed || res.destroyed) return; // the client gave up while the watch was held
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      const since = Number(url.searchParams.get('resourceVersion') || 0);
      for (const e of this.log) if (e.path === url.pathname && e.rv > since) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
      const w = { path: url.pathname, res };
      this.watchers.add(w);
      req.on('close', () => this.watchers.delete(w));
      return;
    }
    if (this.failingLists.has(url.pathname)) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 500 }));
      return;
    }
    const items = [...(this.objects.get(url.pathname)?.values() ?? [])];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items }));
  }
}
