// `outpost proxy-init --external-workload` (on a VM) or `--pod` (the injected outpost-init container,
// in the pod's network namespace): installs (or --check / --uninstall) the iptables rules that
// capture the workload's traffic through its proxy. The same rules either way.
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { OutpostError } from '../../core/errors.js';
import { planCapture, renderCommands, type CaptureOptions } from '../../proxy-init/plan.js';
import { check, install, iptablesExec, uninstall } from '../../proxy-init/iptables.js';

const FLAGS = {
  'external-workload': { type: 'bool', help: 'configure capture on a VM or bare-metal host' },
  pod: { type: 'bool', help: "configure capture in a pod's network namespace (what the injected outpost-init container runs)" },
  'inbound-port': { type: 'int', default: 4143, min: 1, max: 65535, help: "the proxy's inbound port" },
  'outbound-port': { type: 'int', default: 4140, min: 1, max: 65535, help: "the proxy's outbound port" },
  'proxy-uid': { type: 'int', default: 2102, min: 0, help: 'uid the proxy runs as; its traffic is not captured' },
  'inbound-ports': { type: 'string', default: 'all', help: 'comma-separated workload ports to capture inbound, or "all"' },
  'skip-inbound-ports': { type: 'string', default: '22,4143,4190,4191', help: 'inbound ports never captured (SSH and the proxy\'s own)' },
  'skip-outbound-ports': { type: 'string', default: '', help: 'outbound destination ports never captured' },
  'skip-outbound-cidrs': { type: 'string', default: '', help: 'outbound destination networks never captured, comma-separated CIDRs' },
  iptables: { type: 'string', default: 'iptables', help: 'iptables binary (iptables, iptables-legacy, ip6tables)' },
  check: { type: 'bool', help: 'verify the rules are in place; exit 1 listing what is wrong' },
  uninstall: { type: 'bool', help: 'remove the rules' },
  'dry-run': { type: 'bool', help: 'print the iptables commands instead of running them' },
} satisfies FlagSpecs;

function ports(flag: string, value: string): number[] {
  if (!value.trim()) return [];
  return value.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new OutpostError('INVALID_ARGUMENT', `--${flag}: "${s}" is not a port (1-65535)`);
    return n;
  });
}

function cidrs(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean).map((c) => {
    if (!/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(c)) throw new OutpostError('INVALID_ARGUMENT', `--skip-outbound-cidrs: "${c}" is not a CIDR like 10.0.0.0/8`);
    return c;
  });
}

export async function run(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`Usage: outpost proxy-init --external-workload|--pod [--check | --uninstall] [flags]\n\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  const exec = iptablesExec(flags.iptables);
  if (flags.uninstall) {
    const { removed } = uninstall(exec);
    console.log(removed ? 'removed the Outpost capture rules' : 'no Outpost capture rules were installed');
    return 0;
  }
  if (flags['external-workload'] === flags.pod) {
    throw new OutpostError('INVALID_ARGUMENT', 'pass exactly one of --external-workload (a VM or bare-metal host) and --pod (a pod\'s network namespace, as the injected outpost-init container does)');
  }
  const opts: CaptureOptions = {
    inboundPort: flags['inbound-port'],
    outboundPort: flags['outbound-port'],
    proxyUid: flags['proxy-uid'],
    inboundPorts: flags['inbound-ports'].trim() === 'all' ? 'all' : ports('inbound-ports', flags['inbound-ports']),
    skipInboundPorts: ports('skip-inbound-ports', flags['skip-inbound-ports']),
    skipOutboundPorts: ports('skip-outbound-ports', flags['skip-outbound-ports']),
    skipOutboundCidrs: cidrs(flags['skip-outbound-cidrs']),
  };
  const plan = planCapture(opts);
  if (flags['dry-run']) {
    console.log(renderCommands(plan, flags.iptables).join('\n'));
    return 0;
  }
  if (flags.check) {
    const problems = check(exec, plan);
    if (problems.length === 0) {
      console.log('✓ capture rules are in place');
      return 0;
    }
    for (const p of problems) console.log(`× ${p}`);
    console.log('hint: run `outpost proxy-init` without --check (same flags) to install them');
    return 1;
  }
  install(exec, plan);
  console.log(
    `capture installed: inbound ${opts.inboundPorts === 'all' ? 'TCP ports' : opts.inboundPorts.join(',')} -> :${opts.inboundPort}, ` +
      `outbound TCP -> :${opts.outboundPort} (except uid ${opts.proxyUid}); check with --check, remove with --uninstall`,
  );
  return 0;
}
