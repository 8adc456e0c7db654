// `outpost demo`: the guide's hybrid app on this machine, meshed end to end (src/demo/). The hidden
// `outpost demo app` runs one of the demo's application processes (started by the demo itself).
import { CONTROL_PLANE_FLAGS } from '../../controlplane/flags.js';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OutpostError } from '../../core/errors.js';
import { defaultDataDir } from '../../core/files.js';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { createLogger } from '../../core/log.js';
import { parseHostPort } from '../../proxy/config.js';

const FLAGS = {
  'data-dir': { type: 'string', default: defaultDataDir(), help: 'control-plane data dir (kept after the demo, so kubectl works on the next run)' },
  duration: { type: 'duration', help: 'run the traffic for this long, then clean up (default: until Ctrl-C)' },
  'no-netns': { type: 'bool', help: 'use loopback addresses 127.x.y.z even when root (default: a network namespace per workload when root)' },
  'api-port': CONTROL_PLANE_FLAGS['api-port'],
  'free-ports': { type: 'bool', help: 'run the control plane on free ports instead of the defaults (other commands then need --data-dir)' },
  subnet: { type: 'string', help: 'the workloads\' /24 (default 198.18.0.0/24 with namespaces, 127.0.10.0/24 without)' },
  'port-offset': { type: 'int', default: 0, min: 0, max: 50000, help: 'shift the apps\' ports (5432, 6379, 8080, 8081) when they are taken on this host' },
  interval: { type: 'duration', default: 5000, help: 'how often the table is printed' },
  rate: { type: 'int', default: 5, min: 1, max: 200, help: 'order lookups per second from the api-server' },
} satisfies FlagSpecs;

const APP_FLAGS = {
  kind: { type: 'string', help: 'postgres, redis or api-server' },
  listen: { type: 'string', help: 'host:port the app listens on' },
  'health-port': { type: 'int', min: 1, max: 65535, help: 'postgres: HTTP /health port' },
  postgres: { type: 'string', help: 'api-server: host:port of the proxy listener for postgres' },
  redis: { type: 'string', help: 'api-server: host:port of the proxy listener for redis' },
  rate: { type: 'int', default: 5, min: 1, max: 200, help: 'api-server: lookups per second' },
  'intruder-target': { type: 'string', help: 'redis: proxy listener that leads to postgres (the policy should refuse it)' },
  'via-proxy': { type: 'string', help: "api-server: host:port of its proxy's outbound HTTP proxy, to send the load through the mesh" },
  authority: { type: 'string', help: 'api-server: the Service the load is sent to (with --via-proxy)' },
  instance: { type: 'string', help: "the demo run's directory (marks the process as the demo's, for cleanup)" },
} satisfies FlagSpecs;

const USAGE = `Usage: outpost demo [--duration 60s] [--data-dir DIR] [--no-netns]

Brings up the control plane and the guide's hybrid app (api-server calling postgres-primary and
redis-cache through mTLS, with the guide's policy) on this machine and shows success rates and
connection rates per workload until Ctrl-C; then removes every process and network namespace it
started. See docs/demo.md.`;

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'app') return runApp(argv.slice(1));
  const { flags, help, positionals } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`${USAGE}\n\nFlags:\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  if (positionals.length) throw new OutpostError('INVALID_ARGUMENT', `unexpected argument "${positionals[0]}"`);
  const dataDir = resolve(flags['data-dir']);
  mkdirSync(join(dataDir, 'demo'), { recursive: true, mode: 0o700 });
  const logFile = join(dataDir, 'demo', 'control-plane.log');
  const stream = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  const log = createLogger({ level: 'info', write: (line) => void stream.write(line + '\n') });
  const abort = new AbortController();
  const onSignal = (sig: string) => {
    if (abort.signal.aborted) return;
    console.log(`\n${sig}: stopping the demo`);
    abort.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  console.log(`outpost demo: the guide's hybrid app, meshed, on this machine (control-plane log: ${logFile})`);
  try {
    const { runDemo } = await import('../../demo/run.js');
    const summary = await runDemo({
      dataDir,
      apiPort: flags['api-port'],
      freePorts: flags['free-ports'],
      netns: !flags['no-netns'],
      subnet: flags.subnet,
      portOffset: flags['port-offset'],
      durationMs: flags.duration,
      intervalMs: flags.interval,
      rate: flags.rate,
      signal: abort.signal,
      out: (line) => console.log(line),
      log,
    });
    const flowed = summary.postgres.ok > 0 && summary.redis.ok > 0;
    if (!flowed && !abort.signal.aborted) console.error('outpost demo: no successful traffic to postgres and redis; see the proxy logs under ' + join(dataDir, 'demo'));
    return flowed || abort.signal.aborted ? 0 : 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    stream.end();
  }
}

function hostPortFlag(flag: string, v: string | undefined): { host: string; port: number } | undefined {
  if (v === undefined) return undefined;
  const hp = parseHostPort(v);
  if (!hp) throw new OutpostError('INVALID_ARGUMENT', `--${flag}: expected host:port, got "${v}"`, { field: flag });
  return hp;
}

async function runApp(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, APP_FLAGS);
  if (help) {
    console.log(`Usage: outpost demo app --kind postgres|redis|api-server --listen HOST:PORT (started by outpost demo)\n\n${formatFlagHelp(APP_FLAGS)}`);
    return 0;
  }
  const kind = flags.kind;
  if (kind !== 'postgres' && kind !== 'redis' && kind !== 'api-server') throw new OutpostError('INVALID_ARGUMENT', `--kind: expected postgres, redis or api-server, got "${kind ?? ''}"`, { field: 'kind' });
  const listen = hostPortFlag('listen', flags.listen) ?? (() => { throw new OutpostError('INVALID_ARGUMENT', '--listen: required', { field: 'listen' }); })();
  const postgres = hostPortFlag('postgres', flags.postgres);
  const redis = hostPortFlag('redis', flags.redis);
  if (kind === 'api-server' && (!postgres || !redis)) throw new OutpostError('INVALID_ARGUMENT', '--postgres and --redis are required for the api-server', { field: 'postgres' });
  const { runDemoApp } = await import('../../demo/apps/app.js');
  const via = hostPortFlag('via-proxy', flags['via-proxy']);
  const web = via ? { via, authority: flags.authority ?? 'api-server.hybrid-app.svc.cluster.local:8080' } : undefined;
  const stop = await runDemoApp({ kind, listen, healthPort: flags['health-port'], postgres, redis, rate: flags.rate, intruderTarget: hostPortFlag('intruder-target', flags['intruder-target']), web });
  console.error(`demo app ${kind} listening on ${listen.host}:${listen.port}`);
  await new Promise<void>((r) => {
    process.once('SIGTERM', () => r());
    process.once('SIGINT', () => r());
  });
  await stop();
  return 0;
}
