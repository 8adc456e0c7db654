// `outpost proxy-init --external-workload` (on a VM) or `--pod` (the injected outpost-init container,
// in the pod's network namespace): installs (or --check / --uninstall) the iptables and ip6tables
// rules that capture the workload's traffic through its proxy, both address families alike (an
// IPv6 connection to a captured port reaches the proxy or nothing, never the app in plaintext).
import { existsSync } from 'node:fs';
import { formatFlagHelp, parseFlags, type FlagSpecs } from '../../core/flags.js';
import { OutpostError } from '../../core/errors.js';
import { planCapture, renderCommands, type CaptureOptions, type Family } from '../../proxy-init/plan.js';
import { check, install, iptablesExec, uninstall, type Exec } from '../../proxy-init/iptables.js';

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
  'redirect-dns': { type: 'bool', help: "send the app's DNS queries (port 53, UDP and TCP) to the proxy's DNS proxy, which answers Service names" },
  'dns-port': { type: 'int', default: 4153, min: 1, max: 65535, help: "the proxy's DNS port (dns.port in proxy-config.yaml)" },
  iptables: { type: 'string', default: 'iptables', help: 'iptables binary for IPv4 (iptables, iptables-legacy)' },
  ip6tables: { type: 'string', default: 'ip6tables', help: 'ip6tables binary for IPv6 (ip6tables, ip6tables-legacy); used whenever the host has IPv6' },
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

/** IPv6 is there unless the kernel has it off (then there is nothing to capture). */
const hostHasIpv6 = () => existsSync('/proc/net/if_inet6');

export async function run(argv: string[]): Promise<number> {
  const { flags, help } = parseFlags(argv, FLAGS);
  if (help) {
    console.log(`Usage: outpost proxy-init --external-workload|--pod [--check | --uninstall] [flags]\n\n${formatFlagHelp(FLAGS)}`);
    return 0;
  }
  const families: { family: Family; binary: string; exec: Exec }[] = [{ family: 4, binary: flags.iptables, exec: iptablesExec(flags.iptables) }];
  if (hostHasIpv6()) families.push({ family: 6, binary: flags.ip6tables, exec: iptablesExec(flags.ip6tables) });
  if (flags.uninstall) {
    for (const f of families) {
      const { removed } = uninstall(f.exec);
      console.log(removed ? `removed the Outpost capture rules (${f.binary})` : `no Outpost capture rules were installed (${f.binary})`);
    }
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
    ...(flags['redirect-dns'] ? { dnsPort: flags['dns-port'] } : {}),
  };
  if (flags['dry-run']) {
    console.log(families.flatMap((f) => renderCommands(planCapture(opts, f.family), f.binary)).join('\n'));
    return 0;
  }
  if (flags.check) {
    const problems = families.flatMap((f) => check(f.exec, planCapture(opts, f.family)).map((p) => `${f.binary}: ${p}`));
    if (problems.length === 0) {
      console.log(`✓ capture rules are in place (${families.map((f) => f.binary).join(', ')})`);
      return 0;
    }
    for (const p of problems) console.log(`× ${p}`);
    console.log('hint: run `outpost proxy-init` without --check (same flags) to install them');
    return 1;
  }
  for (const f of families) install(f.exec, planCapture(opts, f.family));
  console.log(
    `capture installed (${families.map((f) => `IPv${f.family}`).join(' and ')}): inbound ${opts.inboundPorts === 'all' ? 'TCP ports' : opts.inboundPorts.join(',')} -> :${opts.inboundPort}, ` +
      `outbound TCP -> :${opts.outboundPort}${opts.dnsPort ? `, DNS -> :${opts.dnsPort}` : ''} (except uid ${opts.proxyUid}); check with --check, remove with --uninstall`,
  );
  return 0;
}
