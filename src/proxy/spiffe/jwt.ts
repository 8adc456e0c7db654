// The JWT half of the SPIFFE Workload API: FetchJWTSVID asks the identity service (over mTLS with
// the proxy's certificate, so the subject is the proxy's identity) to sign a JWT-SVID; FetchJWTBundles
// serves the JWKS the identity service publishes; ValidateJWTSVID checks a token locally against it.
import * as grpc from '@grpc/grpc-js';
import { fetchJwtBundle, fetchJwtSvid, type JwtBundleResult, type JwtSvidResult } from '../../api/identity/jwt-call.js';
import { JwtSvidInvalid, validateJwtSvid } from '../../core/identity/jwt-svid.js';
import type { Credentials } from '../types.js';
import type { Struct, Value } from '../../api/gen/google-protobuf.js';
import type { JWTSVIDRequest__Output, JWTSVIDResponse, ValidateJWTSVIDRequest__Output, ValidateJWTSVIDResponse } from '../../api/gen/spiffe-workload.js';

/** Where JWT-SVIDs and the JWT bundle come from: the identity service (jwtFromIdentityService). */
export interface JwtSource {
  svid(audience: string[]): Promise<JwtSvidResult>;
  /** The bundle, cached; `fresh` asks again (a token names a key the cache does not hold). */
  bundle(fresh?: boolean): Promise<JwtBundleResult>;
}

export function jwtFromIdentityService(identityAddr: string, creds: () => Credentials | undefined, nowMs: () => number = Date.now): JwtSource {
  let cached: JwtBundleResult | undefined;
  let askedAt = 0;
  const conn = () => {
    const c = creds();
    if (!c) throw Object.assign(new Error('the proxy holds no identity yet'), { grpcCode: grpc.status.UNAVAILABLE });
    return { addr: identityAddr, trustAnchorsPem: c.trustAnchorsPem, clientCertificate: { keyPem: c.keyPem, chainPem: c.certPem + c.chainPem } };
  };
  return {
    async svid(audience) {
      const r = await fetchJwtSvid(conn(), audience);
      cached = r.bundle;
      return r;
    },
    async bundle(fresh = false) {
      // A fresh fetch at most every 10 s: a stream of tokens naming unknown keys must not flood the service.
      if (!cached || (fresh && nowMs() - askedAt > 10_000)) {
        askedAt = nowMs();
        cached = await fetchJwtBundle(conn());
      }
      return cached;
    },
  };
}

type Status = (code: grpc.status, details: string) => grpc.ServiceError;
type Stream = grpc.ServerWritableStream<unknown, unknown>;

/** A failure reaching the identity service, as the caller's status (the service's own refusal code when it answered). */
function upstream(status: Status, e: unknown): grpc.ServiceError {
  const code = (e as { grpcCode?: number }).grpcCode;
  return status(code === grpc.status.UNAVAILABLE || code === undefined ? grpc.status.UNAVAILABLE : code, `JWT-SVID: ${(e as Error).message}`);
}

/** A JSON object as a google.protobuf.Struct. */
function struct(o: Record<string, unknown>): Struct {
  const value = (v: unknown): Value => {
    if (typeof v === 'string') return { stringValue: v };
    if (typeof v === 'number') return { numberValue: v };
    if (typeof v === 'boolean') return { boolValue: v };
    if (Array.isArray(v)) return { listValue: { values: v.map(value) } };
    if (v && typeof v === 'object') return { structValue: struct(v as Record<string, unknown>) };
    return { nullValue: 'NULL_VALUE' };
  };
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, value(v)])) };
}

export interface JwtHandlerDeps {
  source: JwtSource | undefined;
  identity: () => string | undefined;
  headerProblem: (call: grpc.ServerUnaryCall<unknown, unknown> | Stream) => grpc.ServiceError | undefined;
  status: Status;
  streams: Set<Stream>;
  now?: () => number;
}

const NO_SOURCE = 'JWT-SVIDs are signed by the control plane: this proxy has certificates from files (identity.certFile), not from the identity service';

export function jwtHandlers(d: JwtHandlerDeps): grpc.UntypedServiceImplementation {
  const { status } = d;
  const now = d.now ?? Date.now;
  const FetchJWTSVID = (call: grpc.ServerUnaryCall<JWTSVIDRequest__Output, JWTSVIDResponse>, cb: grpc.sendUnaryData<JWTSVIDResponse>) => {
    const bad = d.headerProblem(call);
    if (bad) return cb(bad);
    const audience = call.request.audience ?? [];
    if (!audience.length || audience.some((a) => !a)) return cb(status(grpc.status.INVALID_ARGUMENT, 'audience: at least one non-empty audience is required'));
    const id = d.identity();
    if (call.request.spiffeId && call.request.spiffeId !== id) return cb(status(grpc.status.PERMISSION_DENIED, `spiffe_id: this caller may have ${id ?? 'no identity'} only, not ${call.request.spiffeId}`));
    if (!d.source) return cb(status(grpc.status.UNAVAILABLE, NO_SOURCE));
    d.source.svid(audience).then(
      (r) => cb(null, { svids: [{ spiffeId: r.spiffeId, svid: r.token, hint: '' }] }),
      (e: unknown) => cb(upstream(status, e)),
    );
  };
  const FetchJWTBundles = (call: Stream) => {
    const bad = d.headerProblem(call);
    if (bad) return call.emit('error', bad);
    if (!d.source) return call.emit('error', status(grpc.status.UNAVAILABLE, NO_SOURCE));
    d.source.bundle().then(
      (b) => {
        if (call.cancelled) return;
        call.write({ bundles: { [`spiffe://${b.trustDomain}`]: b.jwksJson } });
        // The signing key does not rotate on its own: the stream stays open for the caller, with nothing more to push.
        d.streams.add(call);
        const done = () => d.streams.delete(call);
        call.on('cancelled', done);
        call.on('close', done);
      },
      (e: unknown) => call.emit('error', upstream(status, e)),
    );
  };
  const ValidateJWTSVID = (call: grpc.ServerUnaryCall<ValidateJWTSVIDRequest__Output, ValidateJWTSVIDResponse>, cb: grpc.sendUnaryData<ValidateJWTSVIDResponse>) => {
    const bad = d.headerProblem(call);
    if (bad) return cb(bad);
    const { audience, svid } = call.request;
    if (!audience) return cb(status(grpc.status.INVALID_ARGUMENT, 'audience: required'));
    if (!svid) return cb(status(grpc.status.INVALID_ARGUMENT, 'svid: required'));
    if (!d.source) return cb(status(grpc.status.UNAVAILABLE, NO_SOURCE));
    const check = (b: JwtBundleResult) => validateJwtSvid(svid, b.jwks, audience, now());
    d.source
      .bundle()
      .then(async (b) => {
        try {
          return check(b);
        } catch (e) {
          if (e instanceof JwtSvidInvalid && /^no key /.test(e.message)) return check(await d.source!.bundle(true));
          throw e;
        }
      })
      .then(
        (r) => cb(null, { spiffeId: r.spiffeId, claims: struct(r.claims) }),
        (e: unknown) => cb(e instanceof JwtSvidInvalid ? status(grpc.status.INVALID_ARGUMENT, `svid: ${e.message}`) : upstream(status, e)),
      );
  };
  return { FetchJWTSVID, FetchJWTBundles, ValidateJWTSVID };
}
