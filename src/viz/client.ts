// The viz API client the CLI uses: the address comes from DATA_DIR/control-plane.json (listener
// `viz`), the server is verified against the mesh trust anchors, and the caller authenticates with
// the admin bearer token of its kubeconfig.
import https from 'node:https';
import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { readControlPlaneInfo } from '../core/control-plane-file.js';
import { OutpostError } from '../core/errors.js';

export interface VizEndpoint {
  url: string;
  ca?: string;
  token?: string;
}

export function findViz(dataDir: string, kc: KubeConfig, override?: string): VizEndpoint {
  const info = readControlPlaneInfo(resolve(dataDir));
  const url = override ?? info?.listeners.viz;
  if (!url) throw new OutpostError('API_UNREACHABLE', `no viz listener in ${resolve(dataDir)}/control-plane.json`, { hint: 'start `outpost up` (the viz runs in it), or pass --data-dir' });
  const caFile = info?.trustAnchorsFile;
  return { url, ca: caFile && existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined, token: kc.getCurrentUser()?.token };
}

function request(ep: VizEndpoint, path: string, params: Record<string, string | undefined>): { url: URL; lib: typeof https | typeof http; options: https.RequestOptions } {
  const url = new URL(path, ep.url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const lib = url.protocol === 'https:' ? https : http;
  const options: https.RequestOptions = { headers: { accept: 'application/json', ...(ep.token ? { authorization: `Bearer ${ep.token}` } : {}) }, agent: false, ...(ep.ca ? { ca: ep.ca } : {}) };
  return { url, lib, options };
}

function apiError(status: number, text: string, url: URL): OutpostError {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {}
  const code = status === 401 ? 'IDENTITY_REFUSED' : status === 404 ? 'NOT_FOUND' : status === 400 ? 'INVALID_ARGUMENT' : 'API_UNREACHABLE';
  return new OutpostError(code, `viz ${url.pathname}: ${body?.error?.message ?? `HTTP ${status}`}`, { field: body?.error?.field });
}

export function vizGet<T>(ep: VizEndpoint, path: string, params: Record<string, string | undefined> = {}, timeoutMs = 10_000): Promise<T> {
  const { url, lib, options } = request(ep, path, params);
  return new Promise((resolvePromise, reject) => {
    const req = lib.get(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(apiError(res.statusCode ?? 0, text, url));
        resolvePromise(JSON.parse(text) as T);
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new OutpostError('API_UNREACHABLE', `viz at ${url.host}: timeout`)));
    req.on('error', (e) => reject(e instanceof OutpostError ? e : new OutpostError('API_UNREACHABLE', `viz at ${url.host}: ${e.message}`)));
  });
}

/** Streams NDJSON lines until the server ends the stream or `stop()` is called. */
export function vizStream(ep: VizEndpoint, path: string, params: Record<string, string | undefined>, onLine: (obj: any) => void): { done: Promise<void>; stop(): void } {
  const { url, lib, options } = request(ep, path, params);
  let req: http.ClientRequest;
  const done = new Promise<void>((resolvePromise, reject) => {
    req = lib.get(url, options, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => reject(apiError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), url)));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) onLine(JSON.parse(line));
        }
      });
      res.on('end', () => resolvePromise());
      res.on('close', () => resolvePromise());
      res.on('error', () => resolvePromise());
    });
    req.on('error', (e) => reject(new OutpostError('API_UNREACHABLE', `viz at ${url.host}: ${e.message}`)));
  });
  return { done, stop: () => req.destroy() };
}
