// The identity service's JWT-SVID calls (wire adapter): SignJwtSvid signs a JWT-SVID whose subject
// is the SPIFFE ID of the caller's client certificate — verified by TLS against the trust anchors,
// as for a renewal — and GetJwtBundle returns the JWKS. Neither is answered without that certificate.
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { peerIp } from '../core/peer-address.js';
import type { RateLimiter } from '../core/rate-limit.js';
import { signJwtSvid } from '../core/identity/jwt-svid.js';
import type { JwtSigningKey } from './jwt-key.js';
import type { JwtBundle, SignJwtSvidRequest__Output, SignJwtSvidResponse } from '../api/gen/identity.js';
import { peerCertificateNames } from './server.js';

export interface JwtServiceOptions {
  key: JwtSigningKey;
  trustDomain: string;
  rateLimiter: RateLimiter;
  clock: Clock;
  log: Logger;
}

const MAX_AUDIENCES = 16;

/** The caller's SPIFFE ID from its verified, unexpired client certificate, else a gRPC error. */
function callerIdentity(call: grpc.ServerUnaryCall<unknown, unknown>, now: number): string | grpc.ServiceError {
  const fail = (code: grpc.status, details: string) => Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
  // grpc-js exposes the peer certificate only when TLS verified it against the trust anchors.
  const cert = call.getAuthContext?.()?.sslPeerCertificate;
  if (!cert?.raw) return fail(grpc.status.UNAUTHENTICATED, 'a JWT-SVID is issued only over mTLS: present your workload certificate');
  const id = peerCertificateNames(cert, now)?.identity;
  if (!id?.startsWith('spiffe://')) return fail(grpc.status.UNAUTHENTICATED, 'the client certificate is expired or names no SPIFFE ID');
  return id;
}

export function jwtHandlers(opts: JwtServiceOptions): grpc.UntypedServiceImplementation {
  const bundle = (): JwtBundle => ({ trustDomain: opts.trustDomain, jwks: Buffer.from(opts.key.jwksJson) });
  const signJwtSvid_: grpc.handleUnaryCall<SignJwtSvidRequest__Output, SignJwtSvidResponse> = (call, cb) => {
    const ip = peerIp(call.getPeer()) ?? call.getPeer();
    if (!opts.rateLimiter.take(ip)) return cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: `too many identity requests from ${ip}; slow down and retry with backoff` });
    const id = callerIdentity(call, opts.clock.now());
    if (typeof id !== 'string') return cb(id);
    const audience = call.request.audience ?? [];
    const bad = audience.length === 0 ? 'audience: at least one is required' : audience.length > MAX_AUDIENCES ? `audience: at most ${MAX_AUDIENCES}` : audience.find((a) => !a || a.length > 256) !== undefined ? 'audience: each must be 1 to 256 characters' : undefined;
    if (bad) return cb({ code: grpc.status.INVALID_ARGUMENT, details: bad });
    const { token, claims } = signJwtSvid(opts.key.privateKey, opts.key.kid, id, audience, opts.clock.now());
    opts.log.debug('JWT-SVID issued', { identity: id, audience, peer: ip });
    cb(null, { token, spiffeId: id, expiresAtUnixMs: claims.exp * 1000, bundle: bundle() });
  };
  const getJwtBundle: grpc.handleUnaryCall<unknown, JwtBundle> = (call, cb) => {
    const id = callerIdentity(call, opts.clock.now());
    if (typeof id !== 'string') return cb(id);
    cb(null, bundle());
  };
  return { signJwtSvid: signJwtSvid_, getJwtBundle };
}
