// The one load run of the API benchmarks and its command line, shared by bench/apiserver.ts and
// bench/apiserver-vs-kube.ts: a namespace, N ExternalWorkload creates (server CPU per create
// measured around them), a timed list, then watch fan-out latency; any Kubernetes-style target.
import { formatFlagHelp, parseFlags } from '../../src/core/flags.js';
import { client, createWorkloads, EW_PATH, timeList, watchFanout, type LoadTarget, type WatchFigures } from './api-load.js';

const LOAD_FLAGS = {
  objects: { type: 'int', default: 10_000, min: 1, help: 'ExternalWorkloads created, listed and watched' },
  watchers: { type: 'int', default: 100, min: 1, help: 'watches open during the label patches' },
  concurrency: { type: 'int', default: 50, min: 1, help: 'requests in flight (and connections) for the creates' },
  updates: { type: 'int', default: 500, min: 1, help: 'label patches each watcher should see' },
} as const;

export interface LoadOptions {
  objects: number;
  watchers: number;
  concurrency: number;
  updates: number;
}

/** `[--objects N] [--watchers N] [--concurrency N] [--updates N]`; `--help` prints them and exits. */
export function loadOptions(usage: string, argv = process.argv.slice(2)): LoadOptions {
  const { flags, help } = parseFlags(argv, LOAD_FLAGS);
  if (help) {
    console.log(`Usage: ${usage}\n\nFlags:\n${formatFlagHelp(LOAD_FLAGS)}`);
    process.exit(0);
  }
  return flags;
}

export interface LoadFigures {
  createsPerSecond: number;
  cpuMsPerCreate: number;
  listMs: number;
  listed: number;
  watch: WatchFigures;
}

/** Runs the load against `target`; `cpuMs` reads the server's CPU time so far (ms). */
export async function runLoad(target: LoadTarget, cpuMs: () => Promise<number>, opts: LoadOptions): Promise<LoadFigures> {
  const { call, close } = client(target, opts.concurrency);
  try {
    const ns = await call('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    if (ns.status !== 201) throw new Error(`namespace: ${ns.status} ${ns.text.slice(0, 200)}`);
    const cpu0 = await cpuMs();
    const creates = await createWorkloads(call, 'bench', opts.objects, opts.concurrency);
    const cpuMsPerCreate = ((await cpuMs()) - cpu0) / opts.objects;
    const list = await timeList(call, EW_PATH('bench'));
    const watch = await watchFanout(target, call, 'bench', opts.objects, opts.watchers, opts.updates);
    return { createsPerSecond: creates.perSecond, cpuMsPerCreate, listMs: list.bestMs, listed: list.items, watch };
  } finally {
    close();
  }
}
