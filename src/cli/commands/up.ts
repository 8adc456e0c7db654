// `outpost up`: runs the control plane in the foreground until SIGINT/SIGTERM. Its flags are the
// one table of src/controlplane/flags.ts, parsed here once.
import { createLogger } from '../../core/log.js';
import { OutpostError } from '../../core/errors.js';
import { startControlPlane } from '../../controlplane/start.js';
import { controlPlaneHelp, parseControlPlaneFlags, selectedComponents } from '../../controlplane/flags.js';
import { resolve } from 'node:path';

export async function run(argv: string[]): Promise<number> {
  const { flags, help, positionals } = parseControlPlaneFlags(argv);
  if (help) {
    const only = flags.components ? selectedComponents(flags) : undefined;
    console.log(`Usage: outpost up [flags]\n\nRuns the Outpost control plane in the foreground${only ? ` (flags of ${only.join(', ')}; without --components all are shown)` : ''}.\n\n${controlPlaneHelp(only)}`);
    return 0;
  }
  if (positionals.length) throw new OutpostError('INVALID_ARGUMENT', `unexpected argument "${positionals[0]}" (outpost up takes only flags)`);
  const log = createLogger({ level: flags['log-level'], format: flags['log-format'] });
  const dataDir = resolve(flags['data-dir']);
  const cp = await startControlPlane({
    dataDir,
    listen: flags.listen,
    apiPort: flags['api-port'],
    flags,
    log,
    kubeconfig: flags.kubeconfig,
    inCluster: flags['in-cluster'],
    components: flags.components ? selectedComponents(flags) : undefined,
    componentCredentials: flags['component-credentials'],
    identityAddress: flags['identity-address'],
  });
  const lines = [
    `Outpost control plane is up (data dir ${dataDir}${flags.kubeconfig || flags['in-cluster'] ? `; API ${cp.info.listeners.api}, not embedded` : ''}).`,
    ...Object.entries(cp.info.listeners).map(([k, v]) => `  ${k.padEnd(12)} ${v}`),
    '',
    'Point kubectl at it:',
    `  export KUBECONFIG=${cp.kubeconfigPath}`,
    '  kubectl get ns',
    '',
    'Press Ctrl-C to stop.',
  ];
  console.log(lines.join('\n'));
  await new Promise<void>((resolveStop) => {
    const onSignal = (sig: string) => {
      log.info(`received ${sig}, stopping`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveStop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await cp.stop();
  log.info('stopped');
  return 0;
}
