// Per-component API credentials for `outpost up --kubeconfig`: each component talks to the API as
// its own ServiceAccount (outpost/outpost-<component>, rendered by `outpost install`), with tokens
// minted through the TokenRequest API with the admin kubeconfig and re-minted before they expire.
// So the control plane run outside the cluster holds exactly the rights the in-cluster one has.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import { OutpostError } from '../core/errors.js';

const AUTH_PROVIDER = 'outpost-token-request';
/** Token lifetime asked for (the API server may shorten it; its minimum is 10 minutes). */
export const COMPONENT_TOKEN_SECONDS = 3600;
/** Re-mint at 80 % of the lifetime the API granted, like the kubelet does for projected tokens. */
const REFRESH_AT = 0.8;

export interface TokenSource {
  token(): Promise<string>;
}

/** Tokens of one ServiceAccount, minted on demand with the admin credentials and cached until 80 % of their lifetime. */
export function serviceAccountTokens(admin: KubeConfig, namespace: string, name: string, clock: Clock): TokenSource {
  const core = admin.makeApiClient(CoreV1Api);
  let cached: { token: string; refreshAt: number } | undefined;
  let inFlight: Promise<string> | undefined;
  const mint = async (): Promise<string> => {
    const requested = clock.now();
    let res;
    try {
      res = await core.createNamespacedServiceAccountToken({
        name,
        namespace,
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: COMPONENT_TOKEN_SECONDS } },
      });
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === 404) {
        throw new OutpostError('CONFIG_INVALID', `ServiceAccount ${namespace}/${name} does not exist in the cluster`, {
          field: 'kubeconfig',
          hint: 'apply `outpost install | kubectl apply --server-side -f -` first: each component runs as its own ServiceAccount',
        });
      }
      throw new OutpostError('API_UNREACHABLE', `cannot mint a token for ServiceAccount ${namespace}/${name}: ${(e as Error).message}`, { field: 'kubeconfig', cause: e });
    }
    const token = res.status?.token;
    if (!token) throw new OutpostError('API_UNREACHABLE', `the TokenRequest for ${namespace}/${name} returned no token`, { field: 'kubeconfig' });
    const expires = res.status?.expirationTimestamp ? new Date(res.status.expirationTimestamp).getTime() : requested + COMPONENT_TOKEN_SECONDS * 1000;
    cached = { token, refreshAt: requested + (expires - requested) * REFRESH_AT };
    return token;
  };
  return {
    async token() {
      if (cached && clock.now() < cached.refreshAt) return cached.token;
      inFlight ??= mint().finally(() => (inFlight = undefined));
      return inFlight;
    },
  };
}

/**
 * A KubeConfig for the same cluster as `admin` (same server, CA, TLS verification) that
 * authenticates as the ServiceAccount with tokens from `tokens`.
 */
export function kubeConfigForServiceAccount(admin: KubeConfig, namespace: string, name: string, tokens: TokenSource): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new OutpostError('CONFIG_INVALID', '--kubeconfig: the kubeconfig has no current cluster', { field: 'kubeconfig' });
  const user = `system:serviceaccount:${namespace}:${name}`;
  const kc = new KubeConfig();
  kc.addAuthenticator({
    isAuthProvider: (u: { authProvider?: { name?: string } }) => u.authProvider?.name === AUTH_PROVIDER,
    applyAuthentication: async (_u: unknown, opts: { headers?: Record<string, unknown> }) => {
      opts.headers ??= {};
      opts.headers.Authorization = `Bearer ${await tokens.token()}`;
    },
  } as never);
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'cluster' }],
    users: [{ name: user, authProvider: { name: AUTH_PROVIDER, config: { serviceAccount: `${namespace}/${name}` } } }],
    contexts: [{ name: user, cluster: 'cluster', user }],
    currentContext: user,
  });
  return kc;
}
