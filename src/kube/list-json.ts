// One GET of a Kubernetes list path as plain JSON (the shape watch events carry), through a
// kubeconfig's credentials; the informer's list call and the control plane's API checks use it.
import https from 'node:https';
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

/** GET a list path as plain JSON, through the kubeconfig's credentials. */
export async function listJson(kc: KubeConfig, path: string): Promise<{ statusCode: number; body: any }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  const opts: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  // No keep-alive pool: lists are rare, and pooled sockets would keep a short CLI process alive.
  if (!opts.agent) opts.agent = false;
  const lib = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ statusCode: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout listing ${path}`)));
    req.on('error', reject);
    req.end();
  });
}
