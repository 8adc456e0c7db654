// Benchmark of the embedded API server (a script, not a test): creates 10,000 ExternalWorkloads
// over HTTPS (concurrency 50), lists them, then measures watch delivery to 100 watchers.
// The server runs in a child process so that client work does not share its event loop.
//   node --import tsx bench/apiserver.ts [--objects N] [--watchers N] [--concurrency N] [--updates N]
// Goals (issue 2, 2-core machine): >= 2,000 creates/s, 10k list < 300 ms, watch p99 < 50 ms.
// The same load against a real kube-apiserver: bench/apiserver-vs-kube.ts.
import { client, createWorkloads, EW_PATH, timeList, watchFanout } from './load/api-load.js';
import { startEmbeddedServer } from './load/embedded-server.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};

const objects = arg('objects', 10_000);
const watchers = arg('watchers', 100);
const concurrency = arg('concurrency', 50);
const updates = arg('updates', 500);
const server = await startEmbeddedServer();
try {
  const { call, close } = client(server.target, concurrency);
  await call('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });

  const cpu0 = await server.cpuMs();
  const creates = await createWorkloads(call, 'bench', objects, concurrency);
  const cpuPerCreate = ((await server.cpuMs()) - cpu0) / objects;
  const list = await timeList(call, EW_PATH('bench'));
  const watch = await watchFanout(server.target, call, 'bench', objects, watchers, updates);

  const row = (name: string, value: string, goal: string, ok: boolean) => console.log(`${name.padEnd(34)} ${value.padStart(12)}   goal ${goal.padEnd(10)} ${ok ? 'ok' : 'MISSED'}`);
  console.log(`embedded API server, ${objects} ExternalWorkloads, concurrency ${concurrency}, ${watchers} watchers`);
  row('creates/s', creates.perSecond.toFixed(0), '>= 2000', creates.perSecond >= 2000);
  console.log(`${'  server CPU per create'.padEnd(34)} ${`${cpuPerCreate.toFixed(2)} ms`.padStart(12)}   (${(1000 / cpuPerCreate).toFixed(0)}/s if the server had a core to itself)`);
  row(`list of ${list.items} (best of 3)`, `${list.bestMs.toFixed(0)} ms`, '< 300 ms', list.bestMs < 300);
  row(`watch delivery p50 (${watch.delivered} events)`, `${watch.p50.toFixed(1)} ms`, '', true);
  row('watch delivery p99', `${watch.p99.toFixed(1)} ms`, '< 50 ms', watch.p99 < 50);
  if (watch.delivered < watch.expected) console.log(`(only ${watch.delivered} of ${watch.expected} watch events arrived)`);
  close();
} finally {
  await server.stop();
}
