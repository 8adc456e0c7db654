// Test fixtures for the proxy's control-plane clients: a real PKI (src/core/pki.ts), a rotatable
// IdentitySource, and small mTLS gRPC servers implementing the Outpost protos on free loopback ports.
import * as grpc from '@grpc/grpc-js';
import type { CertificateAuthority } from '../../../src/core/pki.js';
import { createTestPki as newPki } from '../../support/pki.js';
import type { Credentials, IdentitySource } from '../../../src/proxy/types.js';
import { serviceDefinition } from '../../../src/api/load.js';

export const WORKLOAD_ID = 'spiffe://cluster.local/ns/payments/externalworkload/payment-processor-vm';

export interface TestPki {
  root: CertificateAuthority;
  issuer: CertificateAuthority;
  serverCertPem: string;
  serverKeyPem: string;
  clientCredentials(identity?: string): Promise<Credentials>;
}

export async function createTestPki(services = ['destination', 'policy', 'health']): Promise<TestPki> {
  const pki = await newPki();
  const server = await pki.leaf({ commonName: 'control-plane', dns: [...services.map((s) => `${s}.outpost.svc.cluster.local`), 'localhost'], ips: ['127.0.0.1'], usages: ['server'] });
  return {
    root: pki.root,
    issuer: pki.issuer,
    serverCertPem: server.chainPem,
    serverKeyPem: server.keyPem,
    async clientCredentials(identity = WORKLOAD_ID) {
      const leaf = await pki.leaf({ commonName: 'workload', identity, serverName: 'payment-processor-vm.payments.svc.cluster.local' });
      return { identity, serverName: leaf.serverName!, certPem: leaf.certPem, keyPem: leaf.keyPem, chainPem: leaf.issuerPem, trustAnchorsPem: leaf.trustAnchorsPem, notAfter: leaf.notAfter };
    },
  };
}

/** An IdentitySource whose credentials a test can rotate. */
export class TestIdentity implements IdentitySource {
  private listeners = new Set<(c: Credentials) => void>();
  constructor(private creds: Credentials | undefined) {}
  current(): Credentials | undefined {
    return this.creds;
  }
  subscribe(listener: (c: Credentials) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(creds: Credentials): void {
    this.creds = creds;
    for (const l of [...this.listeners]) l(creds);
  }
  close(): void {
    this.listeners.clear();
  }
}

export interface TestServer {
  port: number;
  target: string;
  server: grpc.Server;
  /** Client identities (SPIFFE URI SAN) seen on accepted calls. */
  peers: string[];
  stop(): Promise<void>;
}

export function peerIdentity(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'getAuthContext'>): string {
  const cert = call.getAuthContext().sslPeerCertificate;
  const san = cert?.subjectaltname ?? '';
  return /URI:([^,\s]+)/.exec(san)?.[1] ?? '';
}

type Impl = grpc.UntypedServiceImplementation;

/** Starts an mTLS gRPC server with the given implementations on `port` (0 = a free port). */
export async function startTestServer(pki: TestPki, impls: { destination?: Impl; policy?: Impl; health?: Impl }, port = 0): Promise<TestServer> {
  const server = new grpc.Server();
  if (impls.destination) server.addService(serviceDefinition('outpost.destination.v1.Destination'), impls.destination);
  if (impls.policy) server.addService(serviceDefinition('outpost.policy.v1.InboundPolicies'), impls.policy);
  if (impls.health) server.addService(serviceDefinition('outpost.health.v1.WorkloadHealth'), impls.health);
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(pki.root.certPem), [{ private_key: Buffer.from(pki.serverKeyPem), cert_chain: Buffer.from(pki.serverCertPem) }], true);
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port: bound,
    target: `127.0.0.1:${bound}`,
    server,
    peers: [],
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

