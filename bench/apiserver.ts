// Benchmark of the embedded API server (a script, not a test): creates 10,000 ExternalWorkloads
// over HTTPS (concurrency 50), lists them, then measures watch delivery to 100 watchers.
// The server runs in a child process so that client work does not share its event loop.
//   node --import tsx bench/apiserver.ts [--objects N] [--watchers N] [--concurrency N] [--updates N]
// Goals (issue 2, 2-core machine): >= 2,000 creates/s, 10k list < 300 ms, watch p99 < 50 ms.
// The same load against a real kube-apiserver: bench/apiserver-vs-kube.ts.
import { startEmbeddedServer } from './load/embedded-server.js';
import { loadOptions, runLoad } from './load/run-load.js';

const opts = loadOptions('node --import tsx bench/apiserver.ts [flags]');
const server = await startEmbeddedServer();
try {
  const f = await runLoad(server.target, () => server.cpuMs(), opts);
  const { watch } = f;
  const row = (name: string, value: string, goal: string, ok: boolean) => console.log(`${name.padEnd(34)} ${value.padStart(12)}   goal ${goal.padEnd(10)} ${ok ? 'ok' : 'MISSED'}`);
  console.log(`embedded API server, ${opts.objects} ExternalWorkloads, concurrency ${opts.concurrency}, ${opts.watchers} watchers`);
  row('creates/s', f.createsPerSecond.toFixed(0), '>= 2000', f.createsPerSecond >= 2000);
  console.log(`${'  server CPU per create'.padEnd(34)} ${`${f.cpuMsPerCreate.toFixed(2)} ms`.padStart(12)}   (${(1000 / f.cpuMsPerCreate).toFixed(0)}/s if the server had a core to itself)`);
  row(`list of ${f.listed} (best of 3)`, `${f.listMs.toFixed(0)} ms`, '< 300 ms', f.listMs < 300);
  row(`watch delivery p50 (${watch.delivered} events)`, `${watch.p50.toFixed(1)} ms`, '', true);
  row('watch delivery p99', `${watch.p99.toFixed(1)} ms`, '< 50 ms', watch.p99 < 50);
  if (watch.delivered < watch.expected) console.log(`(only ${watch.delivered} of ${watch.expected} watch events arrived)`);
} finally {
  await server.stop();
}
