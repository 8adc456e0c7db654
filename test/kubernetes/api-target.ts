// Test support: one API server (the embedded one or a real kube-apiserver) seen only through its
// kubeconfig, as kubectl, @kubernetes/client-node and raw HTTPS requests see it — so the
// conformance test runs exactly the same client code against both.
import { request, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { kubectl, type RunResult } from '../support/cli.js';
import { httpsReply, requestBody, type HttpReply } from '../support/https.js';

export type { HttpReply };

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
      const body = requestBody(opts);
      const headers: Record<string, string | number> = { Accept: opts.accept ?? 'application/json' };
      if (body) Object.assign(headers, { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': body.length });
      // A reply that never ends (a watch where a list was expected) fails the step instead of hanging it.
      return httpsReply(await options(method, path, headers), body, 30_000).catch((e: Error) => Promise.reject(new Error(`${name}: ${e.message}`)));
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
