// `outpost proxy`: runs the data-plane proxy next to a workload (config file + OUTPOST_PROXY_* env).
// SIGTERM/SIGINT drain: stop accepting, finish in-flight work within the grace period, exit.
// SIGHUP restarts without an outage: a new proxy takes over the listening sockets (handover.ts).
import { parseFlags, formatFlagHelp } from '../../core/flags.js';
import { createLogger } from '../../core/log.js';
import { loadProxyConfig } from '../../proxy/config.js';
import { createSeams } from '../../proxy/seams.js';
import { startProxy } from '../../proxy/main.js';
import { readCredentialFiles } from '../../proxy/static/identity-files.js';
import { OutpostError } from '../../core/errors.js';
import { announceServing, receiveListeners, startSuccessor } from '../../proxy/handover.js';

const FLAGS = {
  config: { type: 'string', help: 'proxy configuration file (YAML, the guide\'s proxy-config.yaml); settings may also come from OUTPOST_PROXY_* variables', short: 'c' },
  check: { type: 'bool', help: 'validate the configuration and exit' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`Usage: outpost proxy --config FILE\n\nRuns the Outpost proxy: inbound mTLS, outbound discovery and balancing, admin, tap.\n\nFlags:\n${formatFlagHelp(FLAGS)}\n\nSee docs/proxy.md for every setting and its OUTPOST_PROXY_* variable.`);
    return 0;
  }
  const config = loadProxyConfig(flags.config);
  if (flags.check) {
    if (config.identity.mode === 'files') {
      try {
        readCredentialFiles({ certFile: config.identity.certFile!, keyFile: config.identity.keyFile!, trustAnchorsFile: config.identity.trustAnchors! });
      } catch (e) {
        throw new OutpostError('CONFIG_INVALID', `identity files: ${(e as Error).message}`, { field: 'identity.certFile' });
      }
    }
    console.log('configuration OK');
    return 0;
  }
  const log = createLogger({ level: config.log.level, format: config.log.format }).child('proxy');
  let stopping: Promise<void> | undefined;
  const running: { proxy?: Awaited<ReturnType<typeof startProxy>> } = {};
  const stop = (why: string) => {
    if (stopping) return stopping;
    log.info('shutting down', { reason: why, graceMs: config.timeouts.shutdownGraceMs });
    stopping = running.proxy ? running.proxy.drain() : Promise.resolve();
    return stopping;
  };
  const inherited = await receiveListeners(log);
  const seams = await createSeams(config, log, { onRevoked: () => void stop('the control plane revoked this workload'), inheritedHealth: inherited.health });
  const proxy = await startProxy(config, seams, { log, onShutdown: () => void stop('admin /shutdown'), inherited: inherited.sockets });
  running.proxy = proxy;
  await proxy.started;
  announceServing(log);
  return new Promise<number>((resolve) => {
    const onSignal = (sig: string) => void stop(sig).then(() => resolve(0));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    let successor: ReturnType<typeof startSuccessor> | undefined;
    process.on('SIGHUP', () => {
      if (stopping || (successor && successor.exitCode === null && successor.signalCode === null)) return;
      successor = startSuccessor(proxy.listeners, log, () => {
        log.info('replaced', { drainMs: config.timeouts.drainMs });
        stopping = proxy.retire();
      }, () => seams.health?.());
    });
    const poll = setInterval(() => {
      if (stopping) stopping.then(() => (clearInterval(poll), resolve(0)));
    }, 100);
  });
}
