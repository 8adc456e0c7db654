// The embedded Kubernetes-compatible API server: HTTPS (HTTP/1.1) in front of the Store, serving
// every registered resource type to real kubectl and @kubernetes/client-node.
import { DEFAULT_SERVICE_CIDR, ServiceIpAllocator } from './service-ips.js';
import { createServer, type Server } from 'node:https';
import { checkingIntervalMs, DEFAULT_CONNECTION_LIMITS, guardConnections, type ConnectionLimits } from './server/connection-guard.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { KubeObject, Store } from '../store/types.js';
import { Authenticator } from './auth/authn.js';
import { DEFAULT_ISSUER, ServiceAccountTokens } from './auth/serviceaccount-tokens.js';
import type { ApiContext, WriteRequest } from './handlers/context.js';
import { deleteObject } from './handlers/write.js';
import { GarbageCollector } from './lifecycle/gc.js';
import { ensureDefaultServiceAccount, ensureSystemNamespaces, finalizeNamespaceIfEmpty, resumeNamespaceCleanups } from './lifecycle/namespaces.js';
import { RESOURCE_TYPES } from './resources/index.js';
import type { ResourceType } from './resources/types.js';
import { apiDocuments } from './server/documents.js';
import { createRequestListener } from './server/http.js';
import { ResourceIndex, storageVersion } from './server/registry.js';
import { watchTracker } from './watch/watch.js';
import { hostPort } from '../core/host-port.js';
import { listen, type HttpListener } from '../core/http-listener.js';

export interface ApiServerOptions {
  store: Store;
  host: string;
  port: number; // 0 = pick a free port
  tls: { certPem: string; keyPem: string };
  /** Bearer token of the admin user (system:admin, all rights). */
  adminToken: string;
  /** ES256 private key (PEM) that signs ServiceAccount tokens; its public key verifies them. */
  serviceAccountKeyPem: string;
  /** Issuer claim of ServiceAccount tokens. */
  issuer?: string;
  log: Logger;
  /** Defaults to the system clock (tests pass a fake one for token expiry). */
  clock?: Clock;
  /** The range new Services' cluster IPs come from (default 10.96.0.0/12). */
  serviceCidr?: string;
  /** Resource types served; defaults to every registered type. */
  resourceTypes?: readonly ResourceType[];
  /** Deadlines and caps for connections that have not sent a request (defaults: DEFAULT_CONNECTION_LIMITS). */
  connectionLimits?: Partial<ConnectionLimits>;
}

export interface RunningApiServer {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const clock = opts.clock ?? systemClock;
  const index = new ResourceIndex(opts.resourceTypes ?? RESOURCE_TYPES);
  const tokens = new ServiceAccountTokens(opts.serviceAccountKeyPem, clock, opts.issuer ?? DEFAULT_ISSUER);
  const serviceIPs = new ServiceIpAllocator(opts.store, opts.serviceCidr ?? DEFAULT_SERVICE_CIDR);
  const ctx: ApiContext = { store: opts.store, index, clock, log: opts.log, tokens, serviceIPs, afterDelete: () => {} };
  const gc = new GarbageCollector(
    opts.store,
    index,
    async (type, obj) => {
      const served = { type, version: type.versions.find((v) => v.name === storageVersion(type))! };
      const req: WriteRequest = { served, namespace: type.namespaced ? obj.metadata.namespace : undefined, name: obj.metadata.name, dryRun: false, fieldValidation: 'Ignore' };
      await deleteObject(ctx, req, {});
    },
    opts.log,
  );
  ctx.afterDelete = (deleted: KubeObject, _served, { orphanDependents }) => {
    if (deleted.metadata.uid) gc.ownerRemoved({ uid: deleted.metadata.uid, namespace: deleted.metadata.namespace ?? '', orphanDependents });
    const ns = deleted.metadata.namespace;
    if (ns) {
      finalizeNamespaceIfEmpty(ctx, ns).catch((e) => opts.log.warn('namespace finalization failed', { namespace: ns, error: e }));
    }
  };
  ctx.afterCreate = async (created, served) => {
    if (served.type.group === '' && served.type.plural === 'namespaces') await ensureDefaultServiceAccount(ctx, created.metadata.name!);
    gc.checkOwners(served.type, created);
  };
  await ensureSystemNamespaces(ctx);
  const stopNamespaceCleanups = resumeNamespaceCleanups(ctx);

  const watches = watchTracker();
  let address = `${opts.host}:${opts.port}`;
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.connectionLimits };
  const server: Server = createServer(
    { cert: opts.tls.certPem, key: opts.tls.keyPem, minVersion: 'TLSv1.2', handshakeTimeout: limits.handshakeTimeoutMs, connectionsCheckingInterval: checkingIntervalMs(limits) },
    createRequestListener({ ctx, docs: apiDocuments(index, clock), authenticator: new Authenticator(opts.adminToken, tokens, (ns, n) => opts.store.get({ group: '', resource: 'serviceaccounts' }, ns, n)), watches, serverAddress: () => address }),
  );
  // Watches are long-lived: no request or idle timeout from the server side (clients choose). A
  // connection that never sends a request is closed (handshake and header deadlines, per-address cap).
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  guardConnections(server, limits, (address) => opts.log.debug('refused a connection: too many pending from this address', { address, limit: limits.maxPendingPerClient }));
  server.on('tlsClientError', () => {});
  let listener: HttpListener;
  try {
    listener = await listen(server, opts.port, opts.host);
  } catch (e) {
    stopNamespaceCleanups();
    gc.close();
    throw e;
  }
  const port = listener.port;
  address = hostPort(opts.host, port);
  opts.log.info('API server listening', { url: `https://${address}` });
  return {
    host: opts.host,
    port,
    url: `https://${address}`,
    async close() {
      stopNamespaceCleanups();
      watches.closeAll();
      // Clients get a second to finish what they sent; open watches were ended above.
      await listener.close(1000);
      await gc.idle();
      gc.close();
    },
  };
}
