// `outpost up`: runs the control plane in the foreground until SIGINT/SIGTERM.
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { defaultDataDir } from '../../core/files.js';
import { createLogger, isLogLevel } from '../../core/log.js';
import { OutpostError } from '../../core/errors.js';
import { COMPONENT_CREDENTIALS, startControlPlane, type ComponentCredentials } from '../../controlplane/start.js';
import { loadComponents } from '../../controlplane/components.js';
import { resolve } from 'node:path';
import { parseServiceCidr } from '../../apiserver/service-ips.js';

const BASE_FLAGS = {
  'data-dir': { type: 'string', default: defaultDataDir(), help: 'where state, keys and the kubeconfig live' },
  listen: { type: 'string', default: '127.0.0.1', help: 'address every listener binds to' },
  'api-port': { type: 'int', default: 6443, min: 0, max: 65535, help: 'port of the Kubernetes-compatible API (0 picks a free port)' },
  kubeconfig: { type: 'string', help: 'run against this Kubernetes API instead of the embedded one (apply `outpost install` first; admin credentials, used to mint each component its own ServiceAccount token)' },
  'in-cluster': { type: 'bool', help: "in a pod: use the pod's ServiceAccount and the cluster's API (the Deployments of `outpost install`)" },
  components: { type: 'string', help: 'run only these components, comma-separated (identity, controllers, destination, policy, viz, injector); default all' },
  'component-credentials': { type: 'string', default: 'service-accounts', help: 'with --kubeconfig: service-accounts (each component as outpost/outpost-<component>, tokens from the TokenRequest API) or kubeconfig (every component with the kubeconfig\'s credentials)' },
  'identity-address': { type: 'string', help: 'host:port of the identity service, for components run without identity in this process (--components): each gets its mTLS certificate from it with its own ServiceAccount token' },
  'service-cidr': { type: 'string', default: '10.96.0.0/12', help: "the range the embedded API gives Services' cluster IPs from (IPv4 CIDR; what a VM's DNS proxy answers)" },
  'admin-port': { type: 'int', default: 9990, min: 0, max: 65535, help: 'port of the admin endpoint: /metrics, /live, /ready (0 picks a free port)' },
  'log-level': { type: 'string', default: 'info', help: 'debug, info, warn or error' },
  'log-format': { type: 'string', default: 'text', help: 'text or json' },
} satisfies FlagSpecs;

export async function run(argv: string[]): Promise<number> {
  const components = await loadComponents();
  const specs: FlagSpecs = { ...BASE_FLAGS };
  for (const c of components) Object.assign(specs, c.flags);
  const { flags, help } = parseFlags(argv, specs);
  if (help) {
    console.log(`Usage: outpost up [flags]\n\nRuns the Outpost control plane in the foreground.\n\nFlags:\n${formatFlagHelp(specs)}`);
    return 0;
  }
  const level = String(flags['log-level']);
  if (!isLogLevel(level)) throw new OutpostError('INVALID_ARGUMENT', `--log-level: expected debug, info, warn or error, got "${level}"`);
  const format = String(flags['log-format']);
  if (format !== 'text' && format !== 'json') throw new OutpostError('INVALID_ARGUMENT', `--log-format: expected text or json, got "${format}"`);
  const credentials = String(flags['component-credentials']);
  if (!(COMPONENT_CREDENTIALS as readonly string[]).includes(credentials)) throw new OutpostError('INVALID_ARGUMENT', `--component-credentials: expected ${COMPONENT_CREDENTIALS.join(' or ')}, got "${credentials}"`);
  if (flags.kubeconfig && flags['in-cluster']) throw new OutpostError('INVALID_ARGUMENT', '--in-cluster: may not be given together with --kubeconfig');
  const identityAddress = flags['identity-address'] as string | undefined;
  if (identityAddress !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(identityAddress)) {
    throw new OutpostError('INVALID_ARGUMENT', `--identity-address: expected host:port of the identity service (e.g. ${'outpost-identity.outpost.svc.cluster.local:8080'}), got "${identityAddress}"`, { field: 'identity-address' });
  }
  const only = typeof flags.components === 'string' ? flags.components.split(',').map((c) => c.trim()).filter(Boolean) : undefined;
  const log = createLogger({ level, format });
  parseServiceCidr(String(flags['service-cidr']));
  const dataDir = resolve(String(flags['data-dir']));
  const cp = await startControlPlane({ dataDir, listen: String(flags.listen), apiPort: Number(flags['api-port']), flags, log, kubeconfig: flags.kubeconfig as string | undefined,
    inCluster: Boolean(flags['in-cluster']), components: only, componentCredentials: credentials as ComponentCredentials,
    identityAddress,
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
