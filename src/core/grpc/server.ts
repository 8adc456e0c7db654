// gRPC server plumbing shared by the control plane's services (destination, policy, health):
// binding and stopping a server, the caller's identity (the URI SANs of its
// verified client certificate) and response encoding shared across streams. The mTLS server
// credentials themselves come from core/tls/renewing-credentials.ts.
import * as grpc from '@grpc/grpc-js';

/** A started gRPC server of the control plane. */
export interface RunningGrpcServer {
  port: number;
  address: string;
  stop(): Promise<void>;
}

/** The URI SANs (SPIFFE ids) of a certificate, from Node's "URI:spiffe://..., DNS:..." form. */
export function uriSans(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

/** The SPIFFE/URI SANs of the caller's verified certificate ([] when there is none). */
export function callerUris(call: { getAuthContext?: () => { sslPeerCertificate?: { subjectaltname?: string } } }): string[] {
  return uriSans(call.getAuthContext?.().sslPeerCertificate?.subjectaltname);
}

export function bindServer(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))));
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Stops a server gracefully, forcing after `graceMs` (streams never end on their own). */
export function shutdownServer(server: grpc.Server, graceMs = 500): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The service definition with response encoding memoized per message object: a watcher hands the
 * same update object to every subscriber, so it is encoded once however many streams carry it.
 */
export function withSharedEncoding(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    const encoded = new WeakMap<object, Buffer>();
    const serialize = method.responseSerialize;
    out[name] = {
      ...method,
      responseSerialize: (m: unknown) => {
        if (typeof m !== 'object' || m === null) return serialize(m);
        let buf = encoded.get(m);
        if (!buf) encoded.set(m, (buf = serialize(m)));
        return buf;
      },
    };
  }
  return out as grpc.ServiceDefinition;
}
