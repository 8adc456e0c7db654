// The guide's hybrid app ("Hybrid application" example): namespace hybrid-app, the workloads
// api-server, postgres-primary and redis-cache with the guide's labels and ports, Services postgres
// and redis, Server postgres-server (opaque) and ServerAuthorization postgres-auth admitting only
// the api-server ServiceAccount, and HTTPRoute orders on the api-server Service. Pure descriptions plus an idempotent apply through client-node.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { OutpostError } from '../core/errors.js';
import { statusOf } from '../workload/onboard.js';

export const DEMO_NAMESPACE = 'hybrid-app';
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface DemoWorkload {
  name: string;
  labels: Record<string, string>;
  port: { name: string; port: number };
  /** The guide's probe (postgres: GET /health on 8081 every 10s). */
  probes?: { path: string; port: number; period: string }[];
  app: 'api-server' | 'postgres' | 'redis';
}

/** Ports shift by `offset` when the guide's own (5432, 6379, 8080, 8081) are taken on this host. */
export function demoWorkloads(offset = 0): DemoWorkload[] {
  return [
    { name: 'api-server', labels: { app: 'api-server' }, port: { name: 'http', port: 8080 + offset }, app: 'api-server' },
    { name: 'postgres-primary', labels: { app: 'postgres', role: 'primary' }, port: { name: 'postgres', port: 5432 + offset }, probes: [{ path: '/health', port: 8081 + offset, period: '10s' }], app: 'postgres' },
    { name: 'redis-cache', labels: { app: 'redis', role: 'cache' }, port: { name: 'redis', port: 6379 + offset }, app: 'redis' },
  ];
}

export const SERVICE_PORTS = { postgres: 5432, redis: 6379, 'api-server': 8080 } as const;

/** The guide's Services postgres and redis, plus api-server (the web tier's way in; the guide's is a Deployment). */
export function demoServices(offset = 0): object[] {
  const svc = (name: keyof typeof SERVICE_PORTS) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: DEMO_NAMESPACE },
    spec: { ports: [{ name: name === 'api-server' ? 'http' : name, port: SERVICE_PORTS[name], targetPort: SERVICE_PORTS[name] + offset }], selector: { app: name } },
  });
  return [svc('postgres'), svc('redis'), svc('api-server')];
}

export function demoPolicy(offset = 0): { server: object; authorization: object } {
  return {
    server: {
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'Server',
      metadata: { name: 'postgres-server', namespace: DEMO_NAMESPACE },
      spec: { podSelector: { matchLabels: { app: 'postgres' } }, port: 5432 + offset, proxyProtocol: 'opaque' },
    },
    authorization: {
      apiVersion: 'policy.linkerd.io/v1beta1',
      kind: 'ServerAuthorization',
      metadata: { name: 'postgres-auth', namespace: DEMO_NAMESPACE },
      spec: { server: { name: 'postgres-server' }, client: { meshTLS: { serviceAccounts: [{ name: 'api-server' }] } } },
    },
  };
}


/** The web tier's order lookups (GET /orders/ID to the api-server Service) as an HTTPRoute: `viz routes svc/api-server` counts them. */
export function demoRoutes(): object[] {
  return [
    {
      apiVersion: 'policy.linkerd.io/v1beta3',
      kind: 'HTTPRoute',
      metadata: { name: 'orders', namespace: DEMO_NAMESPACE },
      spec: {
        parentRefs: [{ group: 'core', kind: 'Service', name: 'api-server', port: SERVICE_PORTS['api-server'] }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/orders' }, method: 'GET' }] }],
      },
    },
  ];
}

async function upsert(create: () => Promise<unknown>, patch: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (statusOf(e) !== 409) throw new OutpostError('API_UNREACHABLE', `cannot create ${what}: ${(e as Error).message}`);
    try {
      await patch();
    } catch (e2) {
      throw new OutpostError('API_UNREACHABLE', `cannot update ${what}: ${(e2 as Error).message}`);
    }
  }
}

/** Applies the namespace, Services and policy (create, else merge-patch: re-runs update in place). */
export async function applyHybridApp(kc: KubeConfig, offset = 0): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE, annotations: { 'linkerd.io/inject': 'enabled' } } };
  await upsert(() => core.createNamespace({ body: ns }), () => core.patchNamespace({ name: DEMO_NAMESPACE, body: ns }, MERGE_PATCH), `namespace ${DEMO_NAMESPACE}`);
  for (const svc of demoServices(offset) as { metadata: { name: string } }[]) {
    await upsert(
      () => core.createNamespacedService({ namespace: DEMO_NAMESPACE, body: svc }),
      () => core.patchNamespacedService({ namespace: DEMO_NAMESPACE, name: svc.metadata.name, body: svc }, MERGE_PATCH),
      `Service ${svc.metadata.name}`,
    );
  }
  const { server, authorization } = demoPolicy(offset);
  const policyObject = async (obj: object, group: string, version: string, plural: string, name: string) =>
    upsert(
      () => custom.createNamespacedCustomObject({ group, version, plural, namespace: DEMO_NAMESPACE, body: obj }),
      () => custom.patchNamespacedCustomObject({ group, version, plural, namespace: DEMO_NAMESPACE, name, body: obj }, MERGE_PATCH),
      `${plural} ${name}`,
    );
  await policyObject(server, 'policy.linkerd.io', 'v1beta3', 'servers', 'postgres-server');
  await policyObject(authorization, 'policy.linkerd.io', 'v1beta1', 'serverauthorizations', 'postgres-auth');
  for (const route of demoRoutes() as { metadata: { name: string } }[]) await policyObject(route, 'policy.linkerd.io', 'v1beta3', 'httproutes', route.metadata.name);
}
