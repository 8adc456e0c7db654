// The identity service's JWT-SVID calls from a workload (wire adapter): over mTLS with the
// workload's current certificate, like a renewal — the service signs for the identity it names.
import * as grpc from '@grpc/grpc-js';
import type { GetJwtBundleRequest, JwtBundle__Output, SignJwtSvidRequest, SignJwtSvidResponse__Output } from '../gen/identity.js';
import { identityGrpcClient, toCallError, type IdentityConnection } from './certify-call.js';
import type { Jwks } from '../../core/identity/jwt-svid.js';

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

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type JwtClient = grpc.Client & {
  signJwtSvid(req: SignJwtSvidRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<SignJwtSvidResponse__Output>): grpc.ClientUnaryCall;
  getJwtBundle(req: GetJwtBundleRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<JwtBundle__Output>): grpc.ClientUnaryCall;
};

/** One call on a fresh connection, closed after the answer. */
function call<Res>(
  conn: IdentityConnection & { clientCertificate: NonNullable<IdentityConnection['clientCertificate']> },
  invoke: (client: JwtClient, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<Res>) => void,
): Promise<Res> {
  const client = identityGrpcClient(conn) as JwtClient;
  return new Promise<Res>((resolve, reject) => {
    invoke(client, new grpc.Metadata(), { deadline: Date.now() + (conn.timeoutMs ?? 10_000) }, (err, res) => (err ? reject(toCallError(err, conn.addr)) : resolve(res!)));
  }).finally(() => client.close());
}

function bundleOf(b: JwtBundle__Output | null): JwtBundleResult {
  const jwksJson = b?.jwks ?? Buffer.alloc(0);
  const jwks = JSON.parse(jwksJson.toString('utf8')) as Jwks;
  if (!b?.trustDomain || !Array.isArray(jwks?.keys)) throw new Error('the identity service sent no JWT bundle');
  return { trustDomain: b.trustDomain, jwks, jwksJson };
}

export type MtlsIdentityConnection = Parameters<typeof call>[0];

export async function fetchJwtSvid(conn: MtlsIdentityConnection, audience: string[]): Promise<JwtSvidResult> {
  const r = await call<SignJwtSvidResponse__Output>(conn, (c, md, o, cb) => c.signJwtSvid({ audience }, md, o, cb));
  return { token: r.token, spiffeId: r.spiffeId, expiresAt: Number(r.expiresAtUnixMs), bundle: bundleOf(r.bundle) };
}

export async function fetchJwtBundle(conn: MtlsIdentityConnection): Promise<JwtBundleResult> {
  return bundleOf(await call<JwtBundle__Output>(conn, (c, md, o, cb) => c.getJwtBundle({}, md, o, cb)));
}
