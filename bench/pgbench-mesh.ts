// pgbench through the mesh vs direct, on network-namespace VMs (root): PostgreSQL on a "db" VM,
// pgbench on an "app" VM. Direct: app -> db's address, before any proxy. Mesh: both VMs onboarded
// with `install.sh --capture` (app also `--dns`), pgbench to the guide's postgres://postgres:5432,
// so the traffic crosses both proxies over mTLS. Prints TPS and average latency for persistent
// connections and for a new connection per transaction (-C).
// Run: node --import tsx bench/pgbench-mesh.ts [seconds=10] [clients=4]
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createE2eNetwork, type E2eHost } from '../test/e2e/hosts.js';
import { writeVmTools } from '../test/e2e/vm-tools.js';
import { REPO_ROOT } from '../test/support/cli.js';

const seconds = Number(process.argv[2] ?? 10);
const clients = Number(process.argv[3] ?? 4);
const OUTPOST = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')];
const PG_BIN = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort().at(-1)}/bin`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'outpost-pgbench-'));
const vmBin = writeVmTools(work);
const net = createE2eNetwork(['db', 'app'], work, { ipv6: true });
const [db, app] = net.vms;
const units = (vm: E2eHost) => join(work, `units-${vm.name}`);
const on = (vm: E2eHost, cmd: string, args: string[]) => net.exec(vm, cmd, args, { env: { PATH: `${vmBin}:${process.env.PATH}`, OUTPOST_E2E_UNITS: units(vm) }, timeoutMs: (seconds + 60) * 1000 });

async function until(what: string, fn: () => Promise<boolean>, ms = 40_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

function parse(out: string): { tps: number; latencyMs: number; failed: string } {
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  const failed = /number of failed transactions: (\d+)/.exec(out)?.[1] ?? '?';
  if (!Number.isFinite(tps)) throw new Error(`pgbench said:\n${out}`);
  return { tps, latencyMs, failed };
}

async function pgbench(url: string, reconnect: boolean) {
  const r = await on(app, 'pgbench', ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), ...(reconnect ? ['-C'] : []), url]);
  return parse(r.stdout + r.stderr);
}

try {
  const dataDir = join(work, 'cluster-data');
  const cp = net.start(net.cluster, 'outpost up', OUTPOST[0], [...OUTPOST.slice(1), 'up', '--data-dir', dataDir, '--listen', net.cluster.address, '--api-port', '0', '--identity-port', '0',
    '--destination-port', '0', '--policy-port', '0', '--health-port', '0', '--admin-port', '0', '--viz-port', '0', '--service-cidr', '198.18.252.0/24', '--log-level', 'warn'], join(work, 'cp.log'));
  const pgdata = join(work, 'pgdata');
  mkdirSync(pgdata, { mode: 0o700 });
  chownSync(pgdata, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const asPg = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'];
  await net.exec(db, asPg[0], [...asPg.slice(1), `${PG_BIN}/initdb`, '-D', pgdata, '-U', 'postgres', '-A', 'trust'], { timeoutMs: 120_000 });
  writeFileSync(join(pgdata, 'pg_hba.conf'), 'local all all trust\nhost all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n');
  net.start(db, 'postgres', asPg[0], [...asPg.slice(1), `${PG_BIN}/postgres`, '-D', pgdata, '-c', 'listen_addresses=*', '-c', `unix_socket_directories=${pgdata}`, '-c', 'fsync=off', '-c', 'max_connections=200'], join(work, 'pg.log'));
  await until('postgres', async () => (await on(db, 'psql', ['postgres://postgres@127.0.0.1/postgres', '-XAtc', 'select 1'])).stdout.trim() === '1');
  await on(db, 'psql', ['postgres://postgres@127.0.0.1/postgres', '-XAtc', 'create database myapp']);
  await on(app, 'pgbench', ['-i', '-s', '4', '-q', `postgres://postgres@${db.address}/myapp`]);

  const direct = { persistent: await pgbench(`postgres://postgres@${db.address}/myapp`, false), reconnect: await pgbench(`postgres://postgres@${db.address}/myapp`, true) };

  await until('outpost up', async () => readFileSync(cp.logFile, 'utf8').includes('Outpost control plane is up'));
  const kubectl = (args: string[]) => net.exec(net.cluster, 'kubectl', ['--kubeconfig', join(dataDir, 'kubeconfig'), '--cache-dir', join(work, 'kc'), ...args]);
  await kubectl(['create', 'namespace', 'hybrid-app']);
  await kubectl(['apply', '-f', join(REPO_ROOT, 'test/fixtures/guide/services.yaml')]);
  for (const [vm, name, extra, flags] of [[db, 'postgres-primary', ['--port', 'postgres:5432', '--label', 'app=postgres'], ['--capture']], [app, 'api-server', ['--label', 'app=api-server'], ['--capture', '--dns']]] as const) {
    await net.exec(net.cluster, OUTPOST[0], [...OUTPOST.slice(1), 'workload', 'onboard', name, '-n', 'hybrid-app', '--ip', vm.address, ...extra, '--control-plane-host', net.cluster.address, '--data-dir', dataDir, '--out', join(work, name)], { timeoutMs: 60_000 });
    mkdirSync(units(vm), { recursive: true });
    const r = await on(vm, join(work, name, 'install.sh'), [...flags]);
    if (r.code !== 0) throw new Error(`install.sh on ${vm.name}: ${r.stderr}`);
  }
  for (const vm of [app]) await on(vm, 'sh', ['-c', `rm -f /etc/resolv.conf && echo "nameserver ${net.cluster.address}" > /etc/resolv.conf`]);
  await until('the mesh path', async () => (await on(app, 'psql', ['postgres://postgres@postgres:5432/myapp', '-XAtc', 'select 1'])).stdout.trim() === '1');
  const mesh = { persistent: await pgbench('postgres://postgres@postgres:5432/myapp', false), reconnect: await pgbench('postgres://postgres@postgres:5432/myapp', true) };

  console.log(`pgbench TPC-B (scale 4), ${clients} clients, ${seconds} s each; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`);
  console.log('| path | connections | TPS | avg latency (ms) | failed | TPS vs direct |');
  console.log('|---|---|---|---|---|---|');
  for (const kind of ['persistent', 'reconnect'] as const) {
    for (const [path, r] of [['direct', direct[kind]], ['mesh (2 proxies, mTLS, by Service name)', mesh[kind]]] as const) {
      console.log(`| ${path} | ${kind === 'persistent' ? 'persistent' : 'new per transaction (-C)'} | ${r.tps.toFixed(0)} | ${r.latencyMs.toFixed(2)} | ${r.failed} | ${(r.tps / direct[kind].tps).toFixed(2)} |`);
    }
  }
} finally {
  await net.destroy();
  rmSync(work, { recursive: true, force: true });
}
