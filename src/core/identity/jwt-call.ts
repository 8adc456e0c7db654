// The identity service's JWT-SVID calls from a workload (wire adapter): over mTLS with the
// workload's current certificate, like a renewal — the service signs for the identity it names.
import * as grpc from '@grpc/grpc-js';
import { identityGrpcClient, toCallError, type IdentityConnection } from './certify-call.js';
import type { Jwks } from './jwt-svid.js';

export interface JwtBundleResult {
  trustDomain: string;
  jwks: Jwks;
  /** The JWKS as the service sent it (what the Workload API hands on). */
  jwksJson: Buffer;
}

export interface JwtSvidResult {
  token: string;
  spiffeId: string;
  expiresAt: number;
  bundle: JwtBundleResult;
}

type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void) => void;

function call(conn: IdentityConnection & { clientCertificate: NonNullable<IdentityConnection['clientCertificate']> }, method: 'signJwtSvid' | 'getJwtBundle', req: object): Promise<Record<string, unknown>> {
  const client = identityGrpcClient(conn);
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    (client as unknown as Record<string, Unary>)[method].call(client, req, new grpc.Metadata(), { deadline: Date.now() + (conn.timeoutMs ?? 10_000) }, (err, res) => (err ? reject(toCallError(err, conn.addr)) : resolve(res!)));
  }).finally(() => client.close());
}

function bundleOf(m: unknown): JwtBundleResult {
  const b = m as { trustDomain?: string; jwks?: Buffer };
  const jwksJson = b?.jwks ?? Buffer.alloc(0);
  const jwks = JSON.parse(jwksJson.toString('utf8')) as Jwks;
  if (!b?.trustDomain || !Array.isArray(jwks?.keys)) throw new Error('the identity service sent no JWT bundle');
  return { trustDomain: b.trustDomain, jwks, jwksJson };
}

export type MtlsIdentityConnection = Parameters<typeof call>[0];

export async function fetchJwtSvid(conn: MtlsIdentityConnection, audience: string[]): Promise<JwtSvidResult> {
  const r = await call(conn, 'signJwtSvid', { audience });
  return { token: String(r.token), spiffeId: String(r.spiffeId), expiresAt: Number(r.expiresAtUnixMs), bundle: bundleOf(r.bundle) };
}

export async function fetchJwtBundle(conn: MtlsIdentityConnection): Promise<JwtBundleResult> {
  return bundleOf(await call(conn, 'getJwtBundle', {}));
}
