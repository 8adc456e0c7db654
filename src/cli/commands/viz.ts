// `outpost viz stat|edges|routes|top|tap|check`: the viz API (src/viz) from the command line, with
// Linkerd's arguments and columns. The API is found through DATA_DIR/control-plane.json.
import { OutpostError } from '../../core/errors.js';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { findViz, vizGet, vizStream, type VizEndpoint } from '../../viz/client.js';
import { edgesTable, routesTable, statTable, tapLine, topRows, topTable } from '../../viz/format.js';
import type { EdgeRow } from '../../viz/query.js';
import { parseResource } from '../../viz/resources.js';
import type { RouteRow, StatRow } from '../../viz/service.js';
import type { TapEvent } from '../../viz/tap-client.js';
import { KUBE_FLAGS, loadKubeConfig } from '../kube-context.js';

const COMMON = {
  ...KUBE_FLAGS,
  namespace: { type: 'string', short: 'n', default: 'default', help: 'namespace of the resources' },
  'all-namespaces': { type: 'bool', short: 'A', help: 'all namespaces' },
  output: { type: 'string', short: 'o', default: 'table', help: 'table, wide or json' },
  'time-window': { type: 'string', short: 't', default: '1m', help: 'window of the numbers: 1m, 10m or 1h' },
  'viz-url': { type: 'string', help: 'the viz API (default: the `viz` listener in DATA_DIR/control-plane.json)' },
} satisfies FlagSpecs;

const STAT_FLAGS = { ...COMMON, from: { type: 'string', help: 'only traffic from this resource, e.g. deploy/api-server or ew/web' }, 'from-namespace': { type: 'string', help: 'namespace of --from (default: -n)' } } satisfies FlagSpecs;
const TAP_FLAGS = {
  ...COMMON,
  method: { type: 'string', help: 'only requests with this HTTP method' },
  path: { type: 'string', help: 'only requests whose path starts with this' },
  authority: { type: 'string', help: 'only requests to this authority' },
  'max-rps': { type: 'int', default: 0, help: 'accepted for Linkerd compatibility (tap is not sampled)' },
  limit: { type: 'int', default: 0, min: 0, help: 'stop after this many requests (0 = until interrupted)' },
} satisfies FlagSpecs;
const TOP_FLAGS = { ...TAP_FLAGS, duration: { type: 'duration', default: 0, help: 'print once after this long, instead of refreshing until interrupted' } } satisfies FlagSpecs;

const SUBCOMMANDS: Record<string, { usage: string; flags: FlagSpecs; run: (ep: VizEndpoint, flags: any, args: string[]) => Promise<number> }> = {
  stat: { usage: 'outpost viz stat (externalworkload|ew|deploy|svc|ns|authority)[/NAME] [-n NS | -A] [-t 1m|10m|1h] [--from KIND/NAME] [-o wide|json]', flags: STAT_FLAGS, run: runStat },
  edges: { usage: 'outpost viz edges (ew|deploy|po) [-n NS | -A] [-o wide|json]', flags: COMMON, run: runEdges },
  routes: { usage: 'outpost viz routes svc/NAME [-n NS] [-t 1m] [-o wide|json]', flags: COMMON, run: runRoutes },
  top: { usage: 'outpost viz top (ew|deploy|ns)[/NAME] [-n NS] [--method M] [--path P] [--duration 10s]', flags: TOP_FLAGS, run: runTop },
  tap: { usage: 'outpost viz tap (ew|deploy|ns)[/NAME] [-n NS] [--method M] [--path P] [--limit N] [-o json]', flags: TAP_FLAGS, run: runTap },
  check: { usage: 'outpost viz check', flags: COMMON, run: runCheck },
};

function usage(): string {
  return ['Usage: outpost viz <command> [flags]', '', ...Object.values(SUBCOMMANDS).map((s) => `  ${s.usage}`), '', 'Run `outpost viz <command> --help` for its flags.'].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    console.log(usage());
    return sub ? 0 : 2;
  }
  const cmd = SUBCOMMANDS[sub];
  if (!cmd) throw new OutpostError('INVALID_ARGUMENT', `unknown viz command "${sub}"\n${usage()}`);
  const { flags, positionals, help } = parseFlags(rest, cmd.flags);
  if (help) {
    console.log(`Usage: ${cmd.usage}\n\nFlags:\n${formatFlagHelp(cmd.flags)}`);
    return 0;
  }
  const f = flags as any;
  if (!['table', 'wide', 'json'].includes(f.output)) throw new OutpostError('INVALID_ARGUMENT', `--output: expected table, wide or json, got "${f.output}"`, { field: 'output' });
  // Bad arguments are reported before looking for the control plane.
  for (const a of positionals) parseResource(a);
  if (f.from) parseResource(f.from, '--from');
  const { kc } = loadKubeConfig(f);
  const ep = findViz(f['data-dir'], kc, f['viz-url']);
  return cmd.run(ep, f, positionals);
}

function oneTarget(args: string[], usageLine: string): string {
  if (args.length !== 1) throw new OutpostError('INVALID_ARGUMENT', `expected one resource, got ${args.length}\nUsage: ${usageLine}`);
  parseResource(args[0]);
  return args[0];
}

async function runStat(ep: VizEndpoint, f: any, args: string[]): Promise<number> {
  const resource = oneTarget(args, SUBCOMMANDS.stat.usage);
  if (f.from) parseResource(f.from, '--from');
  const body = await vizGet<{ rows: StatRow[] }>(ep, '/api/stat', {
    resource,
    namespace: f.namespace,
    all: f['all-namespaces'] ? 'true' : undefined,
    window: f['time-window'],
    from: f.from,
    fromNamespace: f['from-namespace'],
  });
  if (f.output === 'json') console.log(JSON.stringify(body.rows, null, 2));
  else if (!body.rows.length) console.error(`No traffic or resources found${f['all-namespaces'] ? '' : ` in namespace ${f.namespace}`}`);
  else console.log(statTable(body.rows, { allNamespaces: f['all-namespaces'], wide: f.output === 'wide' }));
  return 0;
}

async function runEdges(ep: VizEndpoint, f: any, args: string[]): Promise<number> {
  if (args.length > 1) throw new OutpostError('INVALID_ARGUMENT', `expected one resource type\nUsage: ${SUBCOMMANDS.edges.usage}`);
  if (args[0]) parseResource(args[0]);
  const body = await vizGet<{ rows: EdgeRow[] }>(ep, '/api/edges', { namespace: f.namespace, all: f['all-namespaces'] ? 'true' : undefined, window: f['time-window'] });
  if (f.output === 'json') console.log(JSON.stringify(body.rows, null, 2));
  else if (!body.rows.length) console.error(`No edges found${f['all-namespaces'] ? '' : ` in namespace ${f.namespace}`}`);
  else console.log(edgesTable(body.rows, { wide: f.output === 'wide' }));
  return 0;
}

async function runRoutes(ep: VizEndpoint, f: any, args: string[]): Promise<number> {
  const resource = oneTarget(args, SUBCOMMANDS.routes.usage);
  const body = await vizGet<{ rows: RouteRow[]; notice?: string }>(ep, '/api/routes', { resource, namespace: f.namespace, window: f['time-window'] });
  if (body.notice && f.output !== 'json') console.log(body.notice);
  else console.log(f.output === 'json' ? JSON.stringify(body.rows, null, 2) : routesTable(body.rows, { wide: f.output === 'wide' }));
  return 0;
}

function tapParams(f: any, resource: string): Record<string, string | undefined> {
  return { resource, namespace: f.namespace, method: f.method, path: f.path, authority: f.authority, limit: f.limit ? String(f.limit) : undefined };
}

/** Streams until the limit, the server ends, or SIGINT. */
async function streamTap(ep: VizEndpoint, f: any, resource: string, onEvent: (e: TapEvent) => void): Promise<number> {
  let failed = false;
  const s = vizStream(ep, '/api/tap', tapParams(f, resource), (line) => {
    if (line.event) onEvent(line.event as TapEvent);
    else if (line.notice) console.error(`tap ${line.notice.workload}: ${line.notice.message}`);
    else if (line.error) {
      failed = true;
      console.error(`tap ${line.error.workload}: ${line.error.message}`);
    }
  });
  const onSigint = () => s.stop();
  process.once('SIGINT', onSigint);
  try {
    await s.done;
  } finally {
    process.off('SIGINT', onSigint);
  }
  return failed ? 1 : 0;
}

async function runTap(ep: VizEndpoint, f: any, args: string[]): Promise<number> {
  const resource = oneTarget(args, SUBCOMMANDS.tap.usage);
  return streamTap(ep, f, resource, (e) => console.log(f.output === 'json' ? JSON.stringify(e) : tapLine(e)));
}

async function runTop(ep: VizEndpoint, f: any, args: string[]): Promise<number> {
  const resource = oneTarget(args, SUBCOMMANDS.top.usage);
  const events: TapEvent[] = [];
  const tty = process.stdout.isTTY && !f.duration;
  const render = () => (tty ? process.stdout.write('\x1b[H\x1b[2J' + topTable(topRows(events)) + '\n') : undefined);
  const timer = tty ? setInterval(render, 1000) : undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  const done = streamTap(ep, { ...f, limit: f.limit }, resource, (e) => events.push(e));
  if (f.duration) stopTimer = setTimeout(() => process.emit('SIGINT'), f.duration);
  const code = await done;
  if (timer) clearInterval(timer);
  if (stopTimer) clearTimeout(stopTimer);
  console.log(f.output === 'json' ? JSON.stringify(topRows(events), null, 2) : topTable(topRows(events)));
  return code;
}

async function runCheck(ep: VizEndpoint): Promise<number> {
  const results: [string, boolean, string?][] = [];
  let body: { backend: string; workloads: number; scrapable?: number; targetsError?: string; targets: { workload: string; adminAddress: string; up: boolean; lastError?: string }[] } | undefined;
  try {
    body = await vizGet(ep, '/api/check');
    results.push([`viz API answers at ${ep.url} (admin token accepted)`, true]);
  } catch (e) {
    results.push([`viz API answers at ${ep.url}`, false, (e as Error).message]);
  }
  if (body) {
    results.push([`metrics backend: ${body.backend === 'memory' ? 'built-in scraper' : 'prometheus'}`, true]);
    const down = body.targets.filter((t) => !t.up);
    const prom = body.backend === 'prometheus';
    const by = prom ? ' by Prometheus (its up series)' : '';
    if (body.targetsError) results.push([`proxies scraped${by}`, false, body.targetsError]);
    else if (prom && body.targets.length === 0 && (body.scrapable ?? 0) > 0)
      results.push([`0/${body.scrapable} proxies scraped${by} (${body.workloads} workloads known)`, false, 'Prometheus has no up series for the viz\'s proxies: add the viz\'s /api/prometheus-sd to its scrape_configs (docs/viz.md)']);
    else results.push([`${body.targets.length - down.length}/${body.targets.length} proxies scraped${by} (${body.workloads} workloads known)`, down.length === 0, down.map((t) => `${t.workload} at ${t.adminAddress}: ${t.lastError ?? 'not scraped yet'}`).join('; ')]);
  }
  console.log('outpost-viz\n-----------');
  for (const [what, ok, why] of results) console.log(`${ok ? '√' : '×'} ${what}${!ok && why ? `\n    ${why}` : ''}`);
  const failed = results.some(([, ok]) => !ok);
  console.log(failed ? '\nStatus check results are ×' : '\nStatus check results are √');
  return failed ? 1 : 0;
}
