// Test helpers for the proxy: a throwaway mesh CA, workload credentials on disk, and in-process
// proxies started from a config exactly as `outpost proxy` would (identity from files, static upstreams).
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { CertificateAuthority } from '../../src/core/pki.js';
import { createTestPki, spiffeIdOf, TRUST_DOMAIN } from '../support/pki.js';
import { parseProxyConfig } from '../../src/proxy/config.js';
import { createSeams } from '../../src/proxy/seams.js';
import { startProxy, type RunningProxy } from '../../src/proxy/main.js';
import { silentLogger, createLogger } from '../../src/core/log.js';

export const TD = TRUST_DOMAIN;
export const idOf = (ns: string, sa: string) => spiffeIdOf(ns, sa);

export interface Mesh {
  dir: string;
  root: CertificateAuthority;
  issuer: CertificateAuthority;
  trustFile: string;
  /** Writes cert+key files for an identity; returns their paths. */
  issue(name: string, ns: string, sa: string, opts?: { lifetimeMs?: number; issuer?: CertificateAuthority; /** The DNS SAN (default the Linkerd-style ServiceAccount name); an ExternalWorkload's serverName for the health API. */ serverName?: string }): Promise<{ certFile: string; keyFile: string; identity: string; serverName: string }>;
  cleanup(): void;
}

export async function createMesh(): Promise<Mesh> {
  const pki = await createTestPki({ name: 'test' });
  const dir = pki.dir();
  const trustFile = join(dir, 'ca.crt');
  writeFileSync(trustFile, pki.trustAnchorsPem);
  return {
    dir,
    root: pki.root,
    issuer: pki.issuer,
    trustFile,
    async issue(name, ns, sa, opts = {}) {
      const identity = idOf(ns, sa);
      const serverName = opts.serverName ?? `${sa}.${ns}.serviceaccount.identity.outpost.${TD}`;
      const leaf = await pki.leaf({ identity, serverName, lifetimeMs: opts.lifetimeMs, issuer: opts.issuer });
      const { certFile, keyFile } = pki.writeLeaf(name, leaf);
      return { certFile, keyFile, identity, serverName };
    },
    cleanup: () => pki.cleanup(),
  };
}

/** Starts a proxy in-process on free ports; `extra` is merged into the YAML-shaped document. */
export async function startTestProxy(mesh: Mesh, creds: { certFile: string; keyFile: string }, extra: Record<string, unknown> = {}): Promise<RunningProxy> {
  const doc = {
    admin: { port: 0 },
    inbound: { port: 0, address: '127.0.0.1' },
    outbound: { port: 0 },
    tap: { port: 0, address: '127.0.0.1' },
    identity: { trustAnchors: mesh.trustFile, certFile: creds.certFile, keyFile: creds.keyFile, reloadInterval: '200ms' },
    timeouts: { shutdownGrace: '2s', detect: '300ms' },
    ...extra,
  };
  const config = parseProxyConfig(doc as Record<string, unknown>, {});
  const log = process.env.OUTPOST_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger;
  const seams = await createSeams(config, log);
  const proxy = await startProxy(config, seams, { log });
  await proxy.started;
  return proxy;
}

/** Config for a proxy serving these local app ports through its inbound (inbound.ports: the inbound forwards only to declared ports). */
export function serving(...ports: number[]): { inbound: { port: number; address: string; ports: number[] } } {
  return { inbound: { port: 0, address: '127.0.0.1', ports } };
}

/** A static upstream pointing at a peer proxy's inbound port. */
export function upstreamTo(name: string, peers: { proxy: RunningProxy; appPort: number; identity?: string; serverName?: string }[], protocol: 'detect' | 'opaque' = 'detect') {
  return {
    name,
    listen: '127.0.0.1:0',
    protocol,
    endpoints: peers.map((p) => ({ address: '127.0.0.1', port: p.appPort, inboundPort: p.proxy.ports.inbound, identity: p.identity, serverName: p.serverName })),
  };
}

/** Control-plane flags that make its identity issue from this mesh's CA (proxies and control plane share trust). */
export function meshIssuerFlags(mesh: Mesh): Record<string, string> {
  const cert = join(mesh.dir, 'issuer.crt');
  const key = join(mesh.dir, 'issuer.key');
  writeFileSync(cert, mesh.issuer.certPem);
  writeFileSync(key, mesh.issuer.keyPem, { mode: 0o600 });
  return { 'identity-trust-anchors-file': mesh.trustFile, 'identity-issuer-cert': cert, 'identity-issuer-key': key };
}

/** The setup most proxy suites start from: a mesh, an HTTP app answering "ok", and a server proxy (apps/server-b) in front of it. */
export interface MeshWithServer {
  mesh: Mesh;
  app: Server;
  appPort: number;
  /** The server proxy. */
  server: RunningProxy;
  serverIdentity: string;
  serverName: string;
  /** The server proxy as a static upstream's endpoint (for upstreamTo). */
  peer: { proxy: RunningProxy; appPort: number; identity: string; serverName: string }[];
  /** Starts a client proxy as apps/client-a (credentials named `name`) with this config. */
  startClient(name: string, extra: Record<string, unknown>): Promise<RunningProxy>;
  /** Closes the client proxies started here, the server proxy and the app; removes the mesh. */
  close(): Promise<void>;
}

export async function meshWithServer(): Promise<MeshWithServer> {
  const mesh = await createMesh();
  const app = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const b = await mesh.issue('b', 'apps', 'server-b');
  const server = await startTestProxy(mesh, b, serving(appPort));
  const clients: RunningProxy[] = [];
  return {
    mesh,
    app,
    appPort,
    server,
    serverIdentity: b.identity,
    serverName: b.serverName,
    peer: [{ proxy: server, appPort, identity: b.identity, serverName: b.serverName }],
    async startClient(name, extra) {
      const client = await startTestProxy(mesh, await mesh.issue(name, 'apps', 'client-a'), extra);
      clients.push(client);
      return client;
    },
    async close() {
      for (const p of [...clients, server]) await p.close();
      app.close();
      mesh.cleanup();
    },
  };
}
