// The embedded API server for benchmarks, in a child process so that client work does not share
// its event loop: a data dir prepared like `outpost up`, the SQLite store and the API server. The
// parent asks it for its CPU time and RSS (figures a benchmark prints next to throughput).
//   startEmbeddedServer() forks this file with `serve DIR`.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadTarget } from './api-load.js';

export interface EmbeddedServer {
  target: LoadTarget;
  pid: number;
  /** CPU time (user + system) the server process used so far, in ms. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

if (process.argv[2] === 'serve') await serve(process.argv[3]);

export async function startEmbeddedServer(): Promise<EmbeddedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-'));
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [];
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['serve', dir], { execArgv: ['--import', 'tsx', ...profile], stdio: 'inherit' });
  const target = await new Promise<LoadTarget>((resolve, reject) => {
    child.once('message', (m) => resolve(m as LoadTarget));
    child.once('exit', (code) => reject(new Error(`the embedded API server exited with ${code}`)));
  });
  return {
    target,
    pid: child.pid!,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => {
          const cpu = (m as { cpu: NodeJS.CpuUsage }).cpu;
          resolve((cpu.user + cpu.system) / 1000);
        });
        child.send('cpu');
      }),
    async stop() {
      child.disconnect();
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function serve(dir: string): Promise<void> {
  const { prepareDataDir, paths } = await import('../../src/controlplane/data-dir.js');
  const { openSqliteStore } = await import('../../src/store/sqlite.js');
  const { startApiServer } = await import('../../src/apiserver/index.js');
  const { silentLogger } = await import('../../src/core/log.js');
  const m = await prepareDataDir(dir, '127.0.0.1');
  const store = openSqliteStore(paths(dir).db);
  const server = await startApiServer({ store, host: '127.0.0.1', port: 0, tls: { certPem: m.apiCertPem, keyPem: m.apiKeyPem }, adminToken: m.adminToken, serviceAccountKeyPem: m.serviceAccountKeyPem, log: silentLogger });
  process.send!({ url: server.url, token: m.adminToken, ca: m.apiCaPem } satisfies LoadTarget);
  process.on('message', (msg) => {
    if (msg === 'cpu') process.send!({ cpu: process.cpuUsage() });
  });
  process.on('disconnect', async () => {
    await server.close();
    store.close();
    process.exit(0);
  });
}
