// The `outpost` command line: dispatches to one module per command, each loaded on demand so that
// `outpost proxy` never loads control-plane code. Entry points: main.ts (from source and dist/) and
// packaged-main.ts (the single executable).
import { describeError, isOutpostError } from '../core/errors.js';
import { versionLine } from '../core/version.js';

export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

const COMMANDS: Record<string, CommandEntry> = {
  up: { summary: 'Run the control plane on this machine (embedded Kubernetes-compatible API)', load: () => import('./commands/up.js') },
  install: { summary: 'Render the CRDs, RBAC and Deployments for a Kubernetes cluster (| kubectl apply --server-side -f -)', load: () => import('./commands/install.js') },
  proxy: { summary: 'Run the data-plane proxy next to a workload', load: () => import('./commands/proxy.js') },
  identity: { summary: 'Obtain workload certificates, print trust roots', load: () => import('./commands/identity.js') },
  diagnostics: { summary: 'Show what the control plane sends to proxies (endpoints, policy)', load: () => import('./commands/diagnostics.js') },
  workload: { summary: 'Onboard, renew and revoke external workloads', load: () => import('./commands/workload.js') },
  inject: { summary: 'Add the inject annotation to manifests (--manual: the proxy itself), like `linkerd inject`', load: () => import('./commands/inject.js') },
  injector: { summary: 'Print the webhook registration of an injector outside the cluster', load: () => import('./commands/injector.js') },
  uninject: { summary: 'Remove the proxy and the inject annotation from manifests', load: () => import('./commands/uninject.js') },
  'proxy-init': { summary: 'Install traffic capture rules on a VM or in a pod (iptables)', load: () => import('./commands/proxy-init.js') },
  check: { summary: 'Check the control plane and proxies', load: () => import('./commands/check.js') },
  explain: { summary: 'Explain why a workload does or does not get traffic', load: () => import('./commands/explain.js') },
  viz: { summary: 'Observe traffic: stat, edges, routes, top, tap', load: () => import('./commands/viz.js') },
  dashboard: { summary: 'Serve the web dashboard', load: () => import('./commands/dashboard.js') },
  demo: { summary: 'Run the hybrid-app demo: control plane, meshed workloads, traffic', load: () => import('./commands/demo.js') },
  version: { summary: 'Print the version', load: async () => ({ run: async () => (console.log(versionLine()), 0) }) },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'outpost — a service mesh for VMs, bare metal and pods',
    '',
    'Usage: outpost <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `outpost <command> --help` for the flags of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return 0;
  }
  if (cmd === '--version') return COMMANDS.version.load().then((m) => m.run([]));
  const entry = COMMANDS[cmd];
  if (!entry) {
    console.error(`outpost: unknown command "${cmd}" (run \`outpost --help\` for the list)`);
    return 2;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (e) {
    console.error(`outpost ${cmd}: ${describeError(e)}`);
    if (!isOutpostError(e) && process.env.OUTPOST_DEBUG) console.error(e);
    return isOutpostError(e) && e.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}

/**
 * `outpost viz tap … | head`: once the reader closes the pipe, writing to stdout fails with EPIPE.
 * A command line tool then ends quietly (as on SIGPIPE), not with an unhandled-error stack trace:
 * every command's output goes through process.stdout, so this one handler covers them all.
 */
export function exitQuietlyOnBrokenPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (c) => process.exit(c)): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return exit(0);
    throw e;
  });
}
