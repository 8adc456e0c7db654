// Starts the whole control plane in this process: data dir, store, API server, then every
// component against the API through @kubernetes/client-node. Used by `outpost up`, `outpost demo`
// and tests (which pass port 0 and a temp dir).
import { KubeConfig } from '@kubernetes/client-node';
import { openSqliteStore } from '../store/sqlite.js';
import { startApiServer } from '../apiserver/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { ControlPlaneContext, RunningComponent } from '../core/component.js';
import { writeControlPlaneInfo, type ControlPlaneInfo } from '../core/control-plane-file.js';
import type { Logger } from '../core/log.js';
import { OUTPOST_VERSION } from '../core/version.js';
import { lockDataDir, paths, prepareDataDir, writeKubeconfig, type DataDirMaterial } from './data-dir.js';
import { ensurePrivateDir } from '../core/files.js';
import { OutpostError } from '../core/errors.js';
import { listJson } from '../kube/list-json.js';
import { resolve } from 'node:path';
import { loadComponents, type LoadedComponent } from './components.js';
import { DEFAULT_ADMIN_PORT, COMPONENT_CREDENTIALS, controlPlaneFlags, type ComponentName, type ControlPlaneFlags } from './flags.js';
import { startAdminServer } from './admin-server.js';
import { ClusterView } from '../kube/cluster-view.js';
import { InformerMetrics } from '../kube/metrics.js';
import { kubeConfigForServiceAccount, serviceAccountTokens } from './component-credentials.js';
import { INSTALL_COMPONENTS, INSTALL_NAMESPACE } from '../install/components.js';
import { connectRemoteIdentity } from './remote-identity.js';
import { unlinkSync } from 'node:fs';

export interface ControlPlaneOptions {
  dataDir: string;
  listen: string;
  apiPort: number;
  /**
   * The other flags (src/controlplane/flags.ts): those parsed by `outpost up`, or the few a test
   * or the demo sets; defaults for the rest, each checked as on the command line.
   */
  flags: Partial<ControlPlaneFlags>;
  log: Logger;
  clock?: Clock;
  /**
   * Run the components against this Kubernetes API (a kubeconfig) instead of starting the embedded
   * API: the same code, through @kubernetes/client-node. The API must serve Outpost's kinds.
   */
  kubeconfig?: string;
  /** In a pod: the API and credentials of the pod's ServiceAccount (client-node's in-cluster config). */
  inCluster?: boolean;
  /** Run only these components (names as in flags.ts); all when absent. */
  components?: ComponentName[] | string[];
  /**
   * With `kubeconfig`: `service-accounts` (default) runs each component as its own ServiceAccount
   * (outpost/outpost-<component>, tokens from the TokenRequest API); `kubeconfig` runs every
   * component with the kubeconfig's own credentials.
   */
  componentCredentials?: ComponentCredentials;
  /**
   * host:port of an identity service running elsewhere (`--identity-address`): components started
   * without identity in this process get their serving certificates from it, each with its own
   * ServiceAccount token (docs/adr/0022).
   */
  identityAddress?: string;
}

export type ComponentCredentials = (typeof COMPONENT_CREDENTIALS)[number];

export interface RunningControlPlane {
  info: ControlPlaneInfo;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = opts.log;
  // Bad values fail before anything is started.
  // One set of values for the components: the explicit options win over the same flags in opts.flags.
  const flags = controlPlaneFlags({
    ...opts.flags,
    'data-dir': opts.dataDir,
    listen: opts.listen,
    'api-port': opts.apiPort,
    ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.inCluster !== undefined ? { 'in-cluster': opts.inCluster } : {}),
    ...(opts.components?.length ? { components: opts.components.join(',') } : {}),
    ...(opts.componentCredentials !== undefined ? { 'component-credentials': opts.componentCredentials } : {}),
    ...(opts.identityAddress !== undefined ? { 'identity-address': opts.identityAddress } : {}),
  });
  const components = selectComponents(await loadComponents(), opts.components);
  const external = Boolean(opts.kubeconfig || opts.inCluster);
  if (external) ensurePrivateDir(opts.dataDir);
  const material = external ? undefined : await prepareDataDir(opts.dataDir, opts.listen);
  const release = lockDataDir(opts.dataDir);
  const stops: (() => Promise<void>)[] = [async () => release()];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (e) {
        log.warn('error while stopping', { error: e });
      }
    }
    stops.length = 0;
  };
  try {
    const { server, kubeconfigPath, kubeConfig } = material ? await startEmbeddedApi(opts, flags, material, stops) : await checkExternalApi(opts);

    const credentialsOf = componentKubeConfigs(opts, kubeConfig);
    const ctx: ControlPlaneContext = { dataDir: opts.dataDir, listen: opts.listen, log, clock: opts.clock ?? systemClock, kubeConfig };
    const listeners: Record<string, string> = { api: server };
    const metricSources: (() => string)[] = [];
    let ready = false;
    const admin = await startAdminServer({
      host: opts.listen,
      // With a free API port (tests, `demo --free-ports`) the admin port is free too unless given.
      port: flags['admin-port'] ?? (opts.apiPort === 0 ? 0 : DEFAULT_ADMIN_PORT),
      metrics: () => metricSources.map((m) => m()).join(''),
      ready: () => ready,
    });
    stops.push(() => admin.close());
    listeners.admin = admin.address;
    let remoteTrustDomain: string | undefined;
    // One cluster view (one informer per resource type) per set of credentials: every component of
    // `outpost up` shares one; components run as their own ServiceAccounts read through their own.
    const views = new Map<KubeConfig, ClusterView>();
    const informerMetrics = new InformerMetrics();
    metricSources.push(() => informerMetrics.text());
    const viewFor = (kc: KubeConfig): ClusterView => {
      let view = views.get(kc);
      if (!view) {
        const created = (view = new ClusterView({ kubeConfig: kc, clock: ctx.clock, log: log.child('kube'), metrics: informerMetrics }));
        views.set(kc, created);
        stops.push(() => created.stop()); // after every component started later has stopped
      }
      return view;
    };
    for (const component of components) {
      const kubeConfig = await credentialsOf(component.name);
      let identity = ctx.identity;
      if (!identity && opts.identityAddress) {
        const remote = await connectRemoteIdentity({ address: opts.identityAddress, kubeConfig, trustDomain: flags['identity-trust-domain'], clock: ctx.clock, log: log.child(component.name) });
        stops.push(async () => remote.stop());
        identity = remote;
        remoteTrustDomain = remote.trustDomain;
        log.info('component gets its certificate from the identity service', { component: component.name, identity: opts.identityAddress });
      }
      const running: RunningComponent = await component.start({ ...ctx, kubeConfig, cluster: viewFor(kubeConfig), log: log.child(component.name), identity }, flags);
      Object.assign(listeners, running.listeners);
      stops.push(() => running.stop());
      if (running.identityAuthority) ctx.identity = running.identityAuthority;
      if (running.metricsText) metricSources.push(() => running.metricsText!());
    }
    const info: ControlPlaneInfo = {
      version: OUTPOST_VERSION,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      dataDir: opts.dataDir,
      kubeconfig: kubeconfigPath,
      listeners,
      trustAnchorsFile: ctx.identity ? `${opts.dataDir}/pki/trust-anchors.crt` : undefined,
      trustDomain: ctx.identity?.trustDomain ?? remoteTrustDomain,
      defaultInboundPolicy: flags['default-inbound-policy'],
      identityNaming: flags['identity-naming'],
    };
    writeControlPlaneInfo(opts.dataDir, info);
    ready = true;
    stops.splice(1, 0, async () => {
      try {
        unlinkSync(`${opts.dataDir}/control-plane.json`);
      } catch {}
    });
    return { info, kubeconfigPath, kubeConfig, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The embedded API on the data dir's SQLite store; its kubeconfig is written to the data dir. */
async function startEmbeddedApi(opts: ControlPlaneOptions, flags: ControlPlaneFlags, material: DataDirMaterial, stops: (() => Promise<void>)[]): Promise<ApiAccess> {
  const store = openSqliteStore(paths(opts.dataDir).db);
  stops.push(async () => store.close());
  const api = await startApiServer({
    store,
    host: opts.listen,
    port: opts.apiPort,
    tls: { certPem: material.apiCertPem, keyPem: material.apiKeyPem },
    adminToken: material.adminToken,
    serviceAccountKeyPem: material.serviceAccountKeyPem,
    serviceCidr: flags['service-cidr'],
    log: opts.log.child('apiserver'),
  });
  stops.push(() => api.close());
  const apiHost = opts.listen === '0.0.0.0' || opts.listen === '::' ? '127.0.0.1' : opts.listen;
  const server = `https://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${api.port}`;
  const kubeconfigPath = writeKubeconfig(opts.dataDir, server, material);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return { server, kubeconfigPath, kubeConfig };
}

interface ApiAccess {
  server: string;
  /** Where CLI commands find admin credentials (control-plane.json); empty in a pod. */
  kubeconfigPath: string;
  /** Admin credentials (or, in a pod, the pod's ServiceAccount). */
  kubeConfig: KubeConfig;
}

/** The components named by --components, in start order; an unknown name is refused. */
function selectComponents(all: LoadedComponent[], names: string[] | undefined): LoadedComponent[] {
  if (!names?.length) return all;
  const known: string[] = all.map((c) => c.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new OutpostError('INVALID_ARGUMENT', `--components: unknown component "${unknown[0]}" (known: ${known.join(', ')})`, { field: 'components' });
  return all.filter((c) => (names as string[]).includes(c.name));
}

/** The credentials each component talks to the API with (see ControlPlaneOptions.componentCredentials). */
function componentKubeConfigs(opts: ControlPlaneOptions, admin: KubeConfig): (component: string) => Promise<KubeConfig> {
  if (!opts.kubeconfig || opts.componentCredentials === 'kubeconfig') return async () => admin;
  const clock = opts.clock ?? systemClock;
  return async (component) => {
    const sa = INSTALL_COMPONENTS.find((c) => c.name === component)?.serviceAccount ?? `outpost-${component}`;
    const tokens = serviceAccountTokens(admin, INSTALL_NAMESPACE, sa, clock);
    await tokens.token(); // fails now, naming the missing ServiceAccount, rather than in an informer later
    opts.log.info('component runs as its own ServiceAccount', { component, serviceAccount: `${INSTALL_NAMESPACE}/${sa}` });
    return kubeConfigForServiceAccount(admin, INSTALL_NAMESPACE, sa, tokens);
  };
}

/** An existing API: its kubeconfig must load, the API must answer, and it must serve Outpost's kinds. */
async function checkExternalApi(opts: ControlPlaneOptions): Promise<ApiAccess> {
  const kc = new KubeConfig();
  let kubeconfigPath = '';
  if (opts.inCluster) {
    kc.loadFromCluster();
  } else {
    kubeconfigPath = resolve(opts.kubeconfig!);
    try {
      kc.loadFromFile(kubeconfigPath);
    } catch (e) {
      throw new OutpostError('CONFIG_INVALID', `--kubeconfig: cannot read ${kubeconfigPath}: ${(e as Error).message}`, { field: 'kubeconfig' });
    }
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new OutpostError('CONFIG_INVALID', `--kubeconfig: ${kubeconfigPath} has no current cluster`, { field: 'kubeconfig' });
  for (const [path, what] of [['/api/v1/namespaces?limit=1', 'the API'], ['/apis/workload.linkerd.io/v1beta1/externalworkloads?limit=1', 'ExternalWorkloads (workload.linkerd.io/v1beta1)'], ['/apis/policy.linkerd.io/v1beta3/servers?limit=1', 'Servers (policy.linkerd.io/v1beta3)']] as const) {
    let status: number;
    try {
      status = (await listJson(kc, path)).statusCode;
    } catch (e) {
      throw new OutpostError('API_UNREACHABLE', `--kubeconfig: cannot reach the API at ${server}: ${(e as Error).message}`, { field: 'kubeconfig' });
    }
    if (opts.inCluster && status === 403) continue; // a component's ServiceAccount may not list everything
    if (status === 401 || status === 403) throw new OutpostError('API_UNREACHABLE', `--kubeconfig: the API at ${server} refused the credentials (HTTP ${status}); starting needs admin rights (each component then runs as its own ServiceAccount)`, { field: 'kubeconfig' });
    if (status === 404) throw new OutpostError('CONFIG_INVALID', `--kubeconfig: the API at ${server} does not serve ${what}`, { field: 'kubeconfig', hint: 'install the CRDs of workload.linkerd.io and policy.linkerd.io in the cluster first' });
    if (status !== 200) throw new OutpostError('API_UNREACHABLE', `--kubeconfig: listing ${what} at ${server} answered HTTP ${status}`, { field: 'kubeconfig' });
  }
  return { server, kubeconfigPath, kubeConfig: kc };
}
