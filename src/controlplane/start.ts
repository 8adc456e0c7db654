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
import type { FlagSpec } from '../core/flags.js';
import { OUTPOST_VERSION } from '../core/version.js';
import { lockDataDir, paths, prepareDataDir, writeKubeconfig, type DataDirMaterial } from './data-dir.js';
import { ensurePrivateDir } from '../core/files.js';
import { OutpostError } from '../core/errors.js';
import { listJson } from '../destination/informers.js';
import { resolve } from 'node:path';
import { loadComponents } from './components.js';
import { startAdminServer } from './admin-server.js';

/** The admin endpoint's default port (`--admin-port`), as Linkerd's controllers use. */
export const DEFAULT_ADMIN_PORT = 9990;
import { unlinkSync } from 'node:fs';

export interface ControlPlaneOptions {
  dataDir: string;
  listen: string;
  apiPort: number;
  /** Every parsed flag, components read theirs. */
  flags: Record<string, unknown>;
  log: Logger;
  clock?: Clock;
  /**
   * Run the components against this Kubernetes API (a kubeconfig) instead of starting the embedded
   * API: the same code, through @kubernetes/client-node. The API must serve Outpost's kinds.
   */
  kubeconfig?: string;
}

export interface RunningControlPlane {
  info: ControlPlaneInfo;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = opts.log;
  if (opts.kubeconfig) ensurePrivateDir(opts.dataDir);
  const material = opts.kubeconfig ? undefined : await prepareDataDir(opts.dataDir, opts.listen);
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
    const { server, kubeconfigPath } = material ? await startEmbeddedApi(opts, material, stops) : await checkExternalApi(opts.kubeconfig!);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    const components = await loadComponents();
    const flags = { ...flagDefaults(components.flatMap((c) => Object.entries(c.flags))), ...opts.flags };
    const ctx: ControlPlaneContext = { dataDir: opts.dataDir, listen: opts.listen, flags, log, clock: opts.clock ?? systemClock, kubeConfig };
    const listeners: Record<string, string> = { api: server };
    const metricSources: (() => string)[] = [];
    let ready = false;
    const admin = await startAdminServer({
      host: opts.listen,
      // With a free API port (tests, `demo --free-ports`) the admin port is free too unless given.
      port: Number(flags['admin-port'] ?? (opts.apiPort === 0 ? 0 : DEFAULT_ADMIN_PORT)),
      metrics: () => metricSources.map((m) => m()).join(''),
      ready: () => ready,
    });
    stops.push(() => admin.close());
    listeners.admin = admin.address;
    for (const component of components) {
      const running: RunningComponent = await component.start({ ...ctx, log: log.child(component.name), identity: ctx.identity });
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
      trustDomain: ctx.identity?.trustDomain,
      defaultInboundPolicy: typeof opts.flags['default-inbound-policy'] === 'string' ? opts.flags['default-inbound-policy'] : undefined,
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
async function startEmbeddedApi(opts: ControlPlaneOptions, material: DataDirMaterial, stops: (() => Promise<void>)[]): Promise<{ server: string; kubeconfigPath: string }> {
  const store = openSqliteStore(paths(opts.dataDir).db);
  stops.push(async () => store.close());
  const api = await startApiServer({
    store,
    host: opts.listen,
    port: opts.apiPort,
    tls: { certPem: material.apiCertPem, keyPem: material.apiKeyPem },
    adminToken: material.adminToken,
    serviceAccountKeyPem: material.serviceAccountKeyPem,
    log: opts.log.child('apiserver'),
  });
  stops.push(() => api.close());
  const apiHost = opts.listen === '0.0.0.0' || opts.listen === '::' ? '127.0.0.1' : opts.listen;
  const server = `https://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${api.port}`;
  return { server, kubeconfigPath: writeKubeconfig(opts.dataDir, server, material) };
}

/** An existing API: its kubeconfig must load, the API must answer, and it must serve Outpost's kinds. */
async function checkExternalApi(path: string): Promise<{ server: string; kubeconfigPath: string }> {
  const kubeconfigPath = resolve(path);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (e) {
    throw new OutpostError('CONFIG_INVALID', `--kubeconfig: cannot read ${kubeconfigPath}: ${(e as Error).message}`, { field: 'kubeconfig' });
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
    if (status === 401 || status === 403) throw new OutpostError('API_UNREACHABLE', `--kubeconfig: the API at ${server} refused the credentials (HTTP ${status}); the control plane needs cluster-admin rights`, { field: 'kubeconfig' });
    if (status === 404) throw new OutpostError('CONFIG_INVALID', `--kubeconfig: the API at ${server} does not serve ${what}`, { field: 'kubeconfig', hint: 'install the CRDs of workload.linkerd.io and policy.linkerd.io in the cluster first' });
    if (status !== 200) throw new OutpostError('API_UNREACHABLE', `--kubeconfig: listing ${what} at ${server} answered HTTP ${status}`, { field: 'kubeconfig' });
  }
  return { server, kubeconfigPath };
}

/** Default values of component flags, so callers (tests, demo) pass only what they change. */
function flagDefaults(entries: [string, FlagSpec][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of entries) if ('default' in spec && spec.default !== undefined) out[name] = spec.default;
  return out;
}
