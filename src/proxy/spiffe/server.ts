// The SPIFFE Workload API on a Unix socket (wire adapter): each connection is attested once, by the
// uid the kernel recorded for its peer (SO_PEERCRED), then handed to one of two gRPC servers — the
// one that serves the proxy's X.509-SVID and bundle (pushing them again on every rotation) and its
// JWT-SVIDs (jwt.ts), or the one that refuses with PermissionDenied. Every call must carry `workload.spiffe.io: true`.
import * as grpc from '@grpc/grpc-js';
import { chmodSync, lstatSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { OutpostError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { peerCredentials, type PeerCredentials } from '../../core/peer-credentials.js';
import type { Credentials } from '../types.js';
import { attest, type AttestationPolicy } from './attestation.js';
import { serviceDefinition } from '../../api/load.js';
import type { X509BundlesResponse, X509SVIDResponse } from '../../api/gen/spiffe-workload.js';
import { x509BundlesResponse, x509SvidResponse } from './svid.js';
import { jwtHandlers, type JwtSource } from './jwt.js';

/** What the server needs of the proxy's TLS state: the current credentials and their rotations. */
export interface CredentialsFeed {
  creds: Credentials | undefined;
  onRotate(listener: (c: Credentials) => void): () => void;
}

export interface SpiffeServerOptions {
  socketPath: string;
  policy: AttestationPolicy;
  feed: CredentialsFeed;
  /** JWT-SVIDs and bundle (the identity service); without it (certificates from files) the JWT calls answer Unavailable. */
  jwt?: JwtSource;
  log: Logger;
}

export interface RunningSpiffeServer {
  socketPath: string;
  close(): Promise<void>;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;
const SECURITY_HEADER = 'workload.spiffe.io';

/** The spec's request check: InvalidArgument unless the security header is exactly "true". */
function headerProblem(call: AnyCall): grpc.ServiceError | undefined {
  if (call.metadata.get(SECURITY_HEADER)[0] === 'true') return undefined;
  return status(grpc.status.INVALID_ARGUMENT, `security header missing from request: ${SECURITY_HEADER} must be "true"`);
}

function status(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

function refuseAll(details: string): grpc.UntypedServiceImplementation {
  const unary = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(headerProblem(call) ?? status(grpc.status.PERMISSION_DENIED, details));
  const stream = (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', headerProblem(call) ?? status(grpc.status.PERMISSION_DENIED, details));
  return { FetchX509SVID: stream, FetchX509Bundles: stream, FetchJWTBundles: stream, FetchJWTSVID: unary, ValidateJWTSVID: unary };
}

function serveIdentity(feed: CredentialsFeed, jwt: JwtSource | undefined, streams: Set<grpc.ServerWritableStream<unknown, unknown>>): grpc.UntypedServiceImplementation {
  /** Writes the first message, then one per rotation whose message differs, until the caller goes away. */
  const pushing = (render: (c: Credentials) => unknown, key: (m: unknown) => string) => (call: grpc.ServerWritableStream<unknown, unknown>) => {
    const bad = headerProblem(call);
    if (bad) return call.emit('error', bad);
    if (!feed.creds) return call.emit('error', status(grpc.status.UNAVAILABLE, 'the proxy holds no identity yet'));
    let last = '';
    const send = (c: Credentials) => {
      const m = render(c);
      const k = key(m);
      if (k === last) return;
      last = k;
      call.write(m);
    };
    send(feed.creds);
    const off = feed.onRotate(send);
    streams.add(call);
    const done = () => {
      off();
      streams.delete(call);
    };
    call.on('cancelled', done);
    call.on('close', done);
  };
  const base64 = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('base64');
  const svidKey = (m: unknown) => ((m as X509SVIDResponse).svids ?? []).map((s) => base64(s.x509Svid)).join();
  const bundlesKey = (m: unknown) => JSON.stringify(Object.entries((m as X509BundlesResponse).bundles ?? {}).map(([k, v]) => [k, base64(v)]));
  return {
    FetchX509SVID: pushing(x509SvidResponse, svidKey),
    FetchX509Bundles: pushing(x509BundlesResponse, bundlesKey),
    ...jwtHandlers({ source: jwt, identity: () => feed.creds?.identity, headerProblem, status, streams }),
  };
}

/** Creates the socket's directory (0755); a socket already at the path (stale, or a predecessor's) may be replaced, anything else not. */
function prepareSocketPath(path: string, tmp: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  for (const p of [path, tmp]) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (!st.isSocket()) throw new OutpostError('CONFIG_INVALID', `spiffe.socketPath: ${p} exists and is not a socket; refusing to replace it`, { field: 'spiffe.socketPath' });
    if (p === tmp) unlinkSync(tmp);
  }
}

export async function startSpiffeWorkloadApi(opts: SpiffeServerOptions): Promise<RunningSpiffeServer> {
  const { log, policy } = opts;
  serviceDefinition('SpiffeWorkloadAPI'); // fail now, not on the first caller, when the proto is missing
  const streams = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  const serving = new grpc.Server();
  serving.addService(serviceDefinition('SpiffeWorkloadAPI'), serveIdentity(opts.feed, opts.jwt, streams));
  const refusing = new grpc.Server();
  refusing.addService(serviceDefinition('SpiffeWorkloadAPI'), refuseAll('no identity for this caller: its uid is not allowed (spiffe.allowedUids)'));
  const insecure = grpc.ServerCredentials.createInsecure();
  const toServing = serving.createConnectionInjector(insecure);
  const toRefusing = refusing.createConnectionInjector(insecure);

  const sockets = new Set<Socket>();
  const server: Server = createServer((conn) => {
    sockets.add(conn);
    conn.once('close', () => sockets.delete(conn));
    let peer: PeerCredentials | undefined;
    try {
      peer = peerCredentials(conn);
    } catch (e) {
      log.warn('cannot read the peer credentials of a Workload API caller', { reason: (e as Error).message });
    }
    const verdict = attest(peer, policy);
    if (verdict.allowed) {
      log.debug('Workload API caller attested', { uid: peer?.uid, pid: peer?.pid });
      toServing.injectConnection(conn);
    } else {
      log.warn('Workload API caller refused', { uid: peer?.uid, pid: peer?.pid, reason: verdict.reason });
      toRefusing.injectConnection(conn);
    }
  });
  // Bound at a temporary name then renamed over the path: a predecessor's socket (restart by handover)
  // is replaced atomically, and closing — libuv unlinks the name it bound — never removes a successor's.
  const tmp = `${opts.socketPath}.${process.pid}.tmp`;
  prepareSocketPath(opts.socketPath, tmp);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(tmp, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  // Anyone local may connect: attestation by uid, not file permissions, decides who gets an identity.
  chmodSync(tmp, 0o666);
  const ours = lstatSync(tmp).ino;
  renameSync(tmp, opts.socketPath);
  log.info('SPIFFE Workload API listening', { socket: opts.socketPath, allowedUids: [policy.ownUid, ...policy.allowedUids] });
  return {
    socketPath: opts.socketPath,
    close: async () => {
      for (const s of streams) s.end();
      streams.clear();
      const closed = new Promise<void>((r) => server.close(() => r()));
      toServing.destroy();
      toRefusing.destroy();
      serving.forceShutdown();
      refusing.forceShutdown();
      for (const s of sockets) s.destroy();
      await closed;
      // Only our own socket: after a restart by handover the path already holds the successor's.
      try {
        if (lstatSync(opts.socketPath).ino === ours) unlinkSync(opts.socketPath);
      } catch {}
    },
  };
}
