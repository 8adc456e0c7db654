// `outpost check`: Linkerd-style checks of the control plane (default), of a host before `outpost up`
// (--pre), or of the proxy on this VM (--proxy). Exit 1 when any check fails.
import { resolve } from 'node:path';
import { formatFlagHelp, parseFlags } from '../../core/flags.js';
import { KUBE_FLAGS, resolveKubeconfigPath, loadKubeConfig } from '../kube-context.js';
import { runChecks, fail, type CheckGroup } from '../check/report.js';
import { controlPlaneChecks } from '../check/control-plane-checks.js';
import { preChecks, proxyChecks } from '../check/local-checks.js';

const FLAGS = {
  ...KUBE_FLAGS,
  pre: { type: 'bool', help: 'check that this host can run the control plane' },
  proxy: { type: 'bool', help: 'check the proxy on this host' },
  'proxy-config': { type: 'string', default: '/etc/outpost/proxy-config.yaml', help: 'the proxy configuration, for --proxy' },
  listen: { type: 'string', default: '127.0.0.1', help: 'the address `outpost up` will listen on, for --pre' },
  output: { type: 'string', default: 'text', short: 'o', help: 'text or json' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`Usage: outpost check [--pre | --proxy] [flags]\n\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  const dataDir = resolve(flags['data-dir']);
  let groups: CheckGroup[];
  if (flags.pre) groups = preChecks({ dataDir, listen: flags.listen });
  else if (flags.proxy) groups = proxyChecks({ configFile: resolve(flags['proxy-config']) });
  else {
    try {
      const { kc, path } = loadKubeConfig(flags);
      groups = controlPlaneChecks({ kc, kubeconfigPath: path, dataDir });
    } catch (e) {
      const path = resolveKubeconfigPath(flags);
      groups = [{ name: 'kubernetes-api', checks: [{ description: 'can initialize the client', fatal: true, run: async () => fail((e as Error).message, `start the control plane with \`outpost up\`, or pass --kubeconfig (looked at ${path})`) }] }];
    }
  }
  const json = flags.output === 'json';
  const summary = await runChecks(groups, json ? undefined : (l) => console.log(l));
  if (json) console.log(JSON.stringify({ success: summary.failures === 0, warnings: summary.warnings, checks: summary.results }, null, 2));
  return summary.failures === 0 ? 0 : 1;
}
