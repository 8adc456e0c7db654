// Test harness: the API server alone (no other component) on a free port, over a temp data dir
// prepared like `outpost up` does it, with a kubeconfig for real kubectl and client-node.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDataDir, paths, writeKubeconfig, type DataDirMaterial } from '../../../src/controlplane/data-dir.js';
import { openSqliteStore } from '../../../src/store/sqlite.js';
import { startApiServer, type RunningApiServer } from '../../../src/apiserver/index.js';
import type { ConnectionLimits } from '../../../src/apiserver/server/connection-guard.js';
import { createLogger, silentLogger } from '../../../src/core/log.js';
import type { Store } from '../../../src/store/types.js';
import type { Clock } from '../../../src/core/clock.js';
import { kubectl, type RunResult } from '../../support/cli.js';
import { httpsReply, requestBody, type HttpReply } from '../../support/https.js';

export type { HttpReply };

export interface TestApi {
  dir: string;
  kubeconfig: string;
  url: string;
  material: DataDirMaterial;
  store: Store;
  server: RunningApiServer;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /** Raw HTTPS request with the admin token (or `token`), JSON body. */
  call(method: string, path: string, opts?: { body?: unknown; raw?: Buffer | string; contentType?: string; token?: string | null; accept?: string }): Promise<HttpReply>;
  /** Stops the server and store, then starts them again on the same dir (new port). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestApi(opts: { clock?: Clock; connectionLimits?: Partial<ConnectionLimits>; serviceCidr?: string } = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-api-'));
  const material = await prepareDataDir(dir, '127.0.0.1');
  const log = process.env.OUTPOST_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger;
  let store: Store;
  let server: RunningApiServer;
  const api = {} as TestApi;
  const boot = async () => {
    store = openSqliteStore(paths(dir).db);
    server = await startApiServer({
      store,
      host: '127.0.0.1',
      port: 0,
      tls: { certPem: material.apiCertPem, keyPem: material.apiKeyPem },
      adminToken: material.adminToken,
      serviceAccountKeyPem: material.serviceAccountKeyPem,
      log,
      clock: opts.clock,
      connectionLimits: opts.connectionLimits,
      serviceCidr: opts.serviceCidr,
    });
    api.store = store;
    api.server = server;
    api.url = server.url;
    api.kubeconfig = writeKubeconfig(dir, server.url, material);
  };
  await boot();
  Object.assign(api, {
    dir,
    material,
    kubectl: (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input, timeoutMs: 30_000 }),
    call: (method: string, path: string, opts: Parameters<TestApi['call']>[2] = {}) => call(api, method, path, opts),
    async restart() {
      await server.close();
      store.close();
      await boot();
    },
    async stop() {
      await server.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return api;
}

function call(api: TestApi, method: string, path: string, opts: NonNullable<Parameters<TestApi['call']>[2]>): Promise<HttpReply> {
  const body = requestBody(opts);
  const token = opts.token === undefined ? api.material.adminToken : opts.token;
  const u = new URL(api.url + path);
  const headers = {
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
    ...(body ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': body.length } : {}),
    Accept: opts.accept ?? 'application/json',
  };
  return httpsReply({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, ca: api.material.apiCaPem, headers }, body);
}
