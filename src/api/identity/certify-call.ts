// One Certify call to the identity service over TLS (used by proxies and by control-plane components run apart from identity), verifying the server against the trust anchors
// (its certificate names identity.outpost.svc.cluster.local, whatever address we dial). With a client
// certificate the call is a renewal over mTLS.
import * as grpc from '@grpc/grpc-js';
import type { CertifyRequest, CertifyResponse__Output } from '../gen/identity.js';
import { serviceClient } from '../load.js';

export const IDENTITY_SERVER_NAME = 'identity.outpost.svc.cluster.local';
export const EXPECTED_IDENTITY_KEY = 'outpost-expected-identity';
export const EXPECTED_SERVER_NAME_KEY = 'outpost-expected-server-name';
/** Trailer naming the workload an auto-registering ("NS/group:GROUP@IP") call was registered as. */
export const REGISTERED_WORKLOAD_KEY = 'outpost-workload';

export interface CertifyCallRequest {
  identity: string;
  token?: string;
  csr: Buffer;
  workload: string;
}

export interface CertifyCallResult {
  leafDer: Buffer;
  intermediatesDer: Buffer[];
  validUntil: number;
  /** For a group request: the "namespace/name" the service registered this caller as. */
  registered?: string;
}

/** A refusal or transport failure of the identity service, with its gRPC status. */
export class CertifyCallError extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
    readonly reason?: string,
    readonly expected?: { identity: string; serverName: string },
    /** For a group request refused after registration: the "namespace/name" registered. */
    readonly registered?: string,
  ) {
    super(message);
    this.name = 'CertifyCallError';
  }

  /** True when the service could not be reached (as opposed to answering with a refusal). */
  get unreachable(): boolean {
    return this.grpcCode === grpc.status.UNAVAILABLE && this.reason === undefined;
  }
}

type IdentityClient = grpc.Client & {
  certify(req: CertifyRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: CertifyResponse__Output) => void): grpc.ClientUnaryCall;
};

export interface IdentityConnection {
  addr: string;
  trustAnchorsPem: string;
  /** For renewal: the current key and certificate chain (leaf first). */
  clientCertificate?: { keyPem: string; chainPem: string };
  timeoutMs?: number;
}

/** The identity service's gRPC client, verifying the server as IDENTITY_SERVER_NAME; mTLS when a client certificate is given. */
export function identityGrpcClient(conn: IdentityConnection): grpc.Client {
  const creds = conn.clientCertificate
    ? grpc.credentials.createSsl(Buffer.from(conn.trustAnchorsPem), Buffer.from(conn.clientCertificate.keyPem), Buffer.from(conn.clientCertificate.chainPem))
    : grpc.credentials.createSsl(Buffer.from(conn.trustAnchorsPem));
  return new (serviceClient('outpost.identity.v1.Identity'))(conn.addr, creds, {
    'grpc.ssl_target_name_override': IDENTITY_SERVER_NAME,
    'grpc.default_authority': IDENTITY_SERVER_NAME,
    'grpc.max_reconnect_backoff_ms': 2_000,
  });
}

/** A client to make several calls on one connection (benchmarks); `certifyOnce` opens and closes one. */
export function openIdentityClient(conn: IdentityConnection): { certify(req: CertifyCallRequest): Promise<CertifyCallResult>; close(): void } {
  const client = identityGrpcClient(conn) as IdentityClient;
  return {
    certify(req) {
      return new Promise((resolve, reject) => {
        const body = { identity: req.identity, token: Buffer.from(req.token ?? '', 'utf8'), certificateSigningRequest: req.csr, workload: req.workload };
        // The registered name arrives in the trailers, which grpc-js hands over after the callback.
        let response: CertifyCallResult | undefined;
        let trailers: grpc.Metadata | undefined;
        let done = false;
        const finish = () => {
          if (done || !response || !trailers) return;
          done = true;
          const registered = trailers.get(REGISTERED_WORKLOAD_KEY)[0]?.toString();
          resolve(registered ? { ...response, registered } : response);
        };
        const call = client.certify(body, new grpc.Metadata(), { deadline: Date.now() + (conn.timeoutMs ?? 10_000) }, (err, res) => {
          if (err) {
            done = true;
            return reject(toCallError(err, conn.addr));
          }
          response = { leafDer: res!.leafCertificate, intermediatesDer: res!.intermediateCertificates, validUntil: Number(res!.validUntilUnixMs) };
          finish();
        });
        call.on('status', (st: grpc.StatusObject) => {
          trailers = st.metadata ?? new grpc.Metadata();
          finish();
        });
      });
    },
    close: () => client.close(),
  };
}

export async function certifyOnce(conn: IdentityConnection, req: CertifyCallRequest): Promise<CertifyCallResult> {
  const c = openIdentityClient(conn);
  try {
    return await c.certify(req);
  } finally {
    c.close();
  }
}

export function toCallError(err: grpc.ServiceError, addr: string): CertifyCallError {
  const md = err.metadata;
  const reason = md?.get('outpost-refusal-reason')[0]?.toString();
  const identity = md?.get(EXPECTED_IDENTITY_KEY)[0]?.toString();
  const serverName = md?.get(EXPECTED_SERVER_NAME_KEY)[0]?.toString();
  let message = err.details || err.message;
  if (reason === undefined && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED)) {
    const cause = (err.details || 'no answer').replace(/^No connection established\. Last error: (Error: )?/, '').replace(/\.? ?Resolution note:.*$/s, '');
    const tls = /certificate|verify|ssl|tls|altnames|handshake/i.test(cause);
    message = `cannot reach the identity service at ${addr}: ${cause}${tls ? ' (does the trust anchors file match the control plane?)' : ''}`;
  }
  const registered = md?.get(REGISTERED_WORKLOAD_KEY)[0]?.toString();
  return new CertifyCallError(err.code, message, reason, identity && serverName ? { identity, serverName } : undefined, registered);
}
