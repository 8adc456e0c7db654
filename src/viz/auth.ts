// Who may use the viz API: admins of the API server. A caller presents a bearer token; it is the
// control plane's own admin token, or a token the API server accepts for an admin-only request
// (listing namespaces). Answers are cached briefly by token hash (tokens are never stored or logged).
import { createHash, timingSafeEqual } from 'node:crypto';
import https from 'node:https';
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';

const ALLOW_TTL_MS = 60_000;
const DENY_TTL_MS = 5_000;

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

export class AdminAuthenticator {
  private readonly cache = new Map<string, { allowed: boolean; until: number }>();
  private readonly ownToken: Buffer | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly clock: Clock,
  ) {
    const t = kc.getCurrentUser()?.token;
    this.ownToken = t ? Buffer.from(t) : undefined;
  }

  async isAdmin(token: string | undefined): Promise<boolean> {
    if (!token) return false;
    const given = Buffer.from(token);
    if (this.ownToken && given.length === this.ownToken.length && timingSafeEqual(given, this.ownToken)) return true;
    const hash = createHash('sha256').update(token).digest('hex');
    const now = this.clock.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.allowed;
    const allowed = await this.askApiServer(token).catch(() => false);
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(hash, { allowed, until: now + (allowed ? ALLOW_TTL_MS : DENY_TTL_MS) });
    return allowed;
  }

  /** An admin-only request with the caller's token: 200 = admin (in a cluster: may list namespaces). */
  private async askApiServer(token: string): Promise<boolean> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) return false;
    const url = new URL('/api/v1/namespaces?limit=1', cluster.server);
    const opts: https.RequestOptions = { method: 'GET', headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    opts.headers = { accept: 'application/json', authorization: `Bearer ${token}` };
    opts.agent = false;
    delete (opts as any).cert;
    delete (opts as any).key;
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise((resolve) => {
      const req = lib.request(url, opts, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.setTimeout(5000, () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }
}
