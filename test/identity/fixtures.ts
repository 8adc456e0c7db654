// Test fixtures for identity: a fresh CA, an in-memory directory of workloads/ServiceAccounts/tokens
// standing in for the API, and a real identity gRPC server over real TLS on a free port.
import { createTestPki } from '../support/pki.js';
import { silentLogger } from '../../src/core/log.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { effectiveWorkload, type ExternalWorkloadLike, type WorkloadGroupLike } from '../../src/core/workloads/effective.js';
import { Authority, type CaMaterial } from '../../src/identity/authority.js';
import { authorizeCertify, type CertifyLookups, type ReviewedToken } from '../../src/identity/certify.js';
import { createIdentityMetrics, type IdentityMetrics } from '../../src/identity/metrics.js';
import { createRateLimiter } from '../../src/core/rate-limit.js';
import { Refusal } from '../../src/identity/refusal.js';
import { ClaimIndex, createdMs } from '../../src/identity/claim-index.js';
import { ALLOWED_SERVER_NAMES_ANNOTATION, parseAllowedServerNames, type NameHolder } from '../../src/identity/claims.js';
import { startIdentityServer, type RunningIdentityServer } from '../../src/identity/server.js';
import { jwtHandlers } from '../../src/identity/jwt-service.js';
import type { JwtSigningKey } from '../../src/identity/jwt-key.js';

export async function newCaMaterial(opts: { issuerLifetimeMs?: number } = {}): Promise<CaMaterial> {
  const pki = await createTestPki({ name: 'identity.test', lifetimeMs: 365 * 86_400_000, issuerLifetimeMs: opts.issuerLifetimeMs ?? 30 * 86_400_000 });
  return { trustAnchorsPem: pki.trustAnchorsPem, issuerCertPem: pki.issuer.certPem, issuerKeyPem: pki.issuer.keyPem };
}

/** An in-memory stand-in for the API: tokens map to ServiceAccounts, workloads and SAs can be deleted. */
export class FakeDirectory implements CertifyLookups {
  tokens = new Map<string, ReviewedToken>();
  workloads = new Map<string, ExternalWorkloadLike>();
  groups = new Map<string, WorkloadGroupLike>();
  serviceAccounts = new Map<string, string>();

  addServiceAccount(ns: string, name: string, token?: string): void {
    const uid = `uid-${ns}-${name}-${Math.random().toString(36).slice(2, 8)}`;
    this.serviceAccounts.set(`${ns}/${name}`, uid);
    if (token) this.tokens.set(token, { namespace: ns, serviceAccount: name, uid });
  }

  addWorkload(ew: ExternalWorkloadLike): void {
    this.workloads.set(`${ew.metadata.namespace}/${ew.metadata.name}`, ew);
  }

  async reviewToken(token: string): Promise<ReviewedToken> {
    const t = this.tokens.get(token);
    if (!t || this.serviceAccounts.get(`${t.namespace}/${t.serviceAccount}`) !== t.uid) {
      throw new Refusal('token_invalid', 'the token was rejected (invalid bearer token)');
    }
    return t;
  }

  async findWorkload(ns: string, name: string) {
    const ew = this.workloads.get(`${ns}/${name}`);
    if (!ew) return undefined;
    const g = ew.metadata.labels?.workloadGroup;
    const group = g ? this.groups.get(`${ns}/${g}`) : undefined;
    return { ...effectiveWorkload(ew, group), created: createdMs(ew as never), groupCreated: group ? createdMs(group as never) : undefined, groupIdentity: group?.spec?.meshTLS?.identity };
  }

  async serviceAccountUid(ns: string, name: string) {
    return this.serviceAccounts.get(`${ns}/${name}`);
  }

  /** Namespace annotations (the allowed-server-names of claims.ts). */
  namespaceAnnotations = new Map<string, Record<string, string>>();

  async holders(kind: 'identity' | 'serverName', value: string): Promise<NameHolder[]> {
    const index = new ClaimIndex();
    for (const ew of this.workloads.values()) index.upsert('ExternalWorkload', ew);
    for (const g of this.groups.values()) index.upsert('WorkloadGroup', g);
    return index.holders(kind, value);
  }

  async allowedServerNames(ns: string): Promise<string[]> {
    return parseAllowedServerNames(this.namespaceAnnotations.get(ns)?.[ALLOWED_SERVER_NAMES_ANNOTATION]);
  }
}

/** The guide's payment-processor workload, bound to payment-processor-sa. */
export function guideWorkload(bound: string | undefined = 'payment-processor-sa'): ExternalWorkloadLike {
  return {
    metadata: { name: 'payment-processor-vm-1', namespace: 'payments', annotations: bound ? { 'outpost.io/service-account': bound } : {} },
    spec: { meshTLS: { identity: 'spiffe://cluster.local/payment-processor', serverName: 'payment-processor-vm-1.payments.svc.cluster.local' } },
  };
}

export interface TestIdentityServer {
  addr: string;
  server: RunningIdentityServer;
  authority: Authority;
  material: CaMaterial;
  directory: FakeDirectory;
  metrics: IdentityMetrics;
  close(): Promise<void>;
}

export async function startTestIdentityServer(opts: { clock?: Clock; lifetimeMs?: number; ratePerSecond?: number; material?: CaMaterial; jwtKey?: JwtSigningKey } = {}): Promise<TestIdentityServer> {
  const material = opts.material ?? (await newCaMaterial());
  const authority = Authority.load(material, 'cluster.local');
  const directory = new FakeDirectory();
  const metrics = createIdentityMetrics();
  const clock = opts.clock ?? systemClock;
  const serving = authority.issueServiceCertificate('identity', { listen: '127.0.0.1', lifetimeMs: 86_400_000, now: Date.now() });
  const rate = opts.ratePerSecond ?? 0;
  const server = await startIdentityServer(
    {
      host: '127.0.0.1',
      port: 0,
      authority: () => authority,
      authorize: (input) => authorizeCertify(input, directory),
      lifetimeMs: opts.lifetimeMs ?? 86_400_000,
      rateLimiter: createRateLimiter({ ratePerSecond: rate, burst: rate, clock }),
      metrics,
      ...(opts.jwtKey ? { jwt: jwtHandlers({ key: opts.jwtKey, trustDomain: 'cluster.local', rateLimiter: createRateLimiter({ ratePerSecond: 0, burst: 0, clock }), clock, log: silentLogger }) } : {}),
      clock,
      log: silentLogger,
    },
    { trustAnchorsPem: material.trustAnchorsPem, certChainPem: serving.chainPem, keyPem: serving.keyPem },
  );
  return { addr: `127.0.0.1:${server.port}`, server, authority, material, directory, metrics, close: () => server.close() };
}
