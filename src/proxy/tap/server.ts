// The tap server (default 4190): gRPC Observe over mTLS; only the viz identity (or those configured)
// may connect. Events are produced only while a stream is open (TapHub.active).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import type { ProxyContext } from '../context.js';
import type { Credentials } from '../types.js';
import { uriSans } from '../tls/identity.js';
import type { TapEventData } from './hub.js';

const PROTO = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'proto', 'outpost', 'tap.proto');

/** Server credentials whose certificate can be swapped on rotation. */
class RotatingServerCredentials extends grpc.ServerCredentials {
  constructor(c: Credentials) {
    super({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' } as never, contextOf(c));
  }
  rotate(c: Credentials): void {
    this.updateSecureContextOptions(contextOf(c));
  }
  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

function contextOf(c: Credentials): SecureContextOptions {
  return { ca: c.trustAnchorsPem, cert: c.certPem + c.chainPem, key: c.keyPem };
}

/** The identities allowed to tap: configured, else the viz identity in our own trust domain. */
export function tapIdentities(ctx: ProxyContext): string[] {
  if (ctx.config.tap.identities.length) return ctx.config.tap.identities;
  const own = ctx.tls.creds?.identity ?? '';
  const td = /^spiffe:\/\/([^/]+)/.exec(own)?.[1] ?? 'cluster.local';
  return [`spiffe://${td}/ns/outpost/sa/outpost-viz`];
}

export function toTapMessage(e: TapEventData): Record<string, unknown> {
  return {
    direction: e.direction,
    source: e.source,
    destination: e.destination,
    source_identity: e.sourceIdentity,
    destination_identity: e.destinationIdentity,
    method: e.method,
    authority: e.authority,
    path: e.path,
    status: e.status,
    latency_ms: e.latencyMs,
    timestamp_unix_ms: e.timestampMs,
    destination_labels: e.destinationLabels,
    tls: e.tls,
  };
}

export async function startTapServer(ctx: ProxyContext): Promise<{ port: number; close(): void }> {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { outpost: { tap: { v1: { Tap: { service: grpc.ServiceDefinition } } } } };
  const server = new grpc.Server();
  const creds = new RotatingServerCredentials(ctx.tls.creds!);
  const unsubscribe = ctx.tls.onRotate((c) => creds.rotate(c));
  server.addService(pkg.outpost.tap.v1.Tap.service, {
    Observe: (call: grpc.ServerWritableStream<{ limit: number; method: string; path_prefix: string; authority: string }, unknown>) => {
      const cert = call.getAuthContext?.().sslPeerCertificate;
      const ids = uriSans(cert?.subjectaltname);
      const allowed = tapIdentities(ctx);
      if (!ids.some((id) => allowed.includes(id))) {
        call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `identity ${ids[0] ?? '<none>'} may not tap this proxy` });
        return;
      }
      const req = call.request;
      let left = req.limit || Infinity;
      const stop = ctx.tap.subscribe({ method: req.method || undefined, pathPrefix: req.path_prefix || undefined, authority: req.authority || undefined }, (e) => {
        if (left <= 0) return;
        left--;
        call.write(toTapMessage(e));
        if (left === 0) {
          stop();
          call.end();
        }
      });
      call.on('cancelled', stop);
      call.on('close', stop);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${ctx.config.tap.host}:${ctx.config.tap.port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    close: () => {
      unsubscribe();
      server.forceShutdown();
    },
  };
}
