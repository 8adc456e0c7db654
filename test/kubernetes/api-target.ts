// Test support: one API server (the embedded one or a real kube-apiserver) seen only through its
// kubeconfig, as kubectl, @kubernetes/client-node and raw HTTPS requests see it — so the
// conformance test runs exactly the same client code against both.
import { request, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { kubectl, type RunResult } from '../support/cli.js';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface CallOptions {
  body?: unknown;
  raw?: string;
  contentType?: string;
  accept?: string;
}

export interface ApiTarget {
  /** "embedded" or "kube-apiserver": how differences are reported. */
  name: string;
  kubeconfig: string;
  kc: KubeConfig;
  /** Raw HTTPS request with the kubeconfig's credentials; JSON body unless `raw`. */
  call(method: string, path: string, opts?: CallOptions): Promise<HttpReply>;
  /** Opens a watch (path with ?watch=true…), collects its events until closed or ended by the server. */
  watch(path: string): Promise<WatchStream>;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /**
   * Makes every resourceVersion issued so far (but the newest) too old to watch from, the way each
   * server forgets history: the embedded one compacts its event log, a kube-apiserver's watch cache
   * never held the versions written before it started.
   */
  expireWatchHistory(): Promise<void>;
}

export interface WatchStream {
  status: number;
  events: any[];
  ended: Promise<void>;
  close(): void;
}

/** A target over a kubeconfig file; `expire` is the server-specific way to forget watch history. */
export function targetFromKubeconfig(name: string, kubeconfig: string, expire: () => Promise<void>): ApiTarget {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const server = new URL(kc.getCurrentCluster()!.server);
  const options = async (method: string, path: string, headers: Record<string, string | number>): Promise<RequestOptions> => {
    const opts: RequestOptions = { host: server.hostname, port: server.port, path, method, headers };
    await kc.applyToHTTPSOptions(opts);
    // applyToHTTPSOptions puts credentials in headers it merges over ours; keep ours for the rest.
    opts.headers = { ...opts.headers, ...headers };
    return opts;
  };
  return {
    name,
    kubeconfig,
    kc,
    async call(method, path, opts = {}) {
      const body = opts.raw !== undefined ? Buffer.from(opts.raw) : opts.body !== undefined ? Buffer.from(JSON.stringify(opts.body)) : undefined;
      const headers: Record<string, string | number> = { Accept: opts.accept ?? 'application/json' };
      if (body) Object.assign(headers, { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': body.length });
      const o = await options(method, path, headers);
      return new Promise((resolve, reject) => {
        const req = request(o, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {}
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        });
        req.on('error', reject);
        // A reply that never ends (a watch where a list was expected) fails the step instead of hanging it.
        req.setTimeout(30_000, () => req.destroy(new Error(`${name}: no complete reply to ${method} ${path} within 30 s`)));
        if (body) req.write(body);
        req.end();
      });
    },
    async watch(path) {
      const o = await options('GET', path, { Accept: 'application/json' });
      return new Promise((resolve, reject) => {
        const events: any[] = [];
        const req = request({ ...o, agent: false }, (res) => {
          let buf = '';
          const ended = new Promise<void>((r) => res.on('close', r));
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            buf += d;
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const line = buf.slice(0, i).trim();
              buf = buf.slice(i + 1);
              if (line) events.push(JSON.parse(line));
            }
          });
          res.on('error', () => {});
          resolve({ status: res.statusCode ?? 0, events, ended, close: () => req.destroy() });
        });
        req.on('error', (e) => (/socket hang up|aborted/.test(e.message) ? undefined : reject(e)));
        req.end();
      });
    },
    kubectl: (args, input) => kubectl(kubeconfig, args, { input, timeoutMs: 30_000 }),
    expireWatchHistory: expire,
  };
}
