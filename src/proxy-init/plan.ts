// Pure planning of the capture rules `outpost proxy-init` installs (nat table, the same for iptables
// and ip6tables): inbound TCP for the workload's ports goes to the proxy's inbound port; the app's
// outbound TCP goes to the proxy's outbound port, except the proxy's own user, loopback, and
// configured skip ports; optionally the app's DNS (UDP and TCP port 53) goes to the proxy's DNS port.

export interface CaptureOptions {
  inboundPort: number;
  outboundPort: number;
  /** uid the proxy runs as; its own traffic is never redirected. */
  proxyUid: number;
  /** Inbound ports to capture; 'all' captures every TCP port except skipInboundPorts. */
  inboundPorts: number[] | 'all';
  skipInboundPorts: number[];
  skipOutboundPorts: number[];
  /** Destination CIDRs whose outbound traffic is left alone (e.g. the control plane's network). */
  skipOutboundCidrs: string[];
  /** The proxy's DNS port: the app's DNS queries (port 53, loopback resolvers included) go there. */
  dnsPort?: number;
}

export type Family = 4 | 6;

export const CHAIN_INBOUND = 'OUTPOST-INBOUND';
export const CHAIN_OUTBOUND = 'OUTPOST-OUTBOUND';
export const COMMENT = 'outpost/proxy-init';

export interface CapturePlan {
  /** Our chains and their rules, in order (each rule is iptables arguments after `-A CHAIN`). */
  chains: { name: string; rules: string[][] }[];
  /** Jumps from the built-in chains into ours: [builtin chain, args]. */
  jumps: { from: 'PREROUTING' | 'OUTPUT'; args: string[] }[];
}

const familyOf = (cidr: string): Family => (cidr.includes(':') ? 6 : 4);

const comment = (what: string) => ['-m', 'comment', '--comment', `${COMMENT}: ${what}`];

function portMatch(ports: number[]): string[] {
  return ports.length === 1 ? ['--dport', String(ports[0])] : ['-m', 'multiport', '--dports', ports.join(',')];
}

/** Port lists are chunked because iptables' multiport takes at most 15 ports. */
function chunks(ports: number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ports.length; i += 15) out.push(ports.slice(i, i + 15));
  return out;
}

/** The rules for one address family (iptables: 4, ip6tables: 6); skip CIDRs go to their own family. */
export function planCapture(o: CaptureOptions, family: Family = 4): CapturePlan {
  const inbound: string[][] = [];
  for (const c of chunks(o.skipInboundPorts)) inbound.push(['-p', 'tcp', ...portMatch(c), ...comment('skip inbound port'), '-j', 'RETURN']);
  if (o.inboundPorts === 'all') {
    inbound.push(['-p', 'tcp', ...comment('to proxy inbound'), '-j', 'REDIRECT', '--to-ports', String(o.inboundPort)]);
  } else {
    for (const c of chunks(o.inboundPorts)) inbound.push(['-p', 'tcp', ...portMatch(c), ...comment('to proxy inbound'), '-j', 'REDIRECT', '--to-ports', String(o.inboundPort)]);
  }
  const outbound: string[][] = [['-m', 'owner', '--uid-owner', String(o.proxyUid), ...comment('proxy traffic'), '-j', 'RETURN']];
  if (o.dnsPort !== undefined) {
    for (const proto of ['udp', 'tcp']) outbound.push(['-p', proto, '--dport', '53', ...comment('dns to proxy'), '-j', 'REDIRECT', '--to-ports', String(o.dnsPort)]);
  }
  outbound.push(['-o', 'lo', ...comment('loopback'), '-j', 'RETURN']);
  for (const cidr of o.skipOutboundCidrs.filter((c) => familyOf(c) === family)) outbound.push(['-d', cidr, ...comment('skip outbound network'), '-j', 'RETURN']);
  for (const c of chunks(o.skipOutboundPorts)) outbound.push(['-p', 'tcp', ...portMatch(c), ...comment('skip outbound port'), '-j', 'RETURN']);
  outbound.push(['-p', 'tcp', ...comment('to proxy outbound'), '-j', 'REDIRECT', '--to-ports', String(o.outboundPort)]);
  return {
    chains: [
      { name: CHAIN_INBOUND, rules: inbound },
      { name: CHAIN_OUTBOUND, rules: outbound },
    ],
    jumps: [
      { from: 'PREROUTING', args: ['-p', 'tcp', ...comment('inbound capture'), '-j', CHAIN_INBOUND] },
      { from: 'OUTPUT', args: ['-p', 'tcp', ...comment('outbound capture'), '-j', CHAIN_OUTBOUND] },
      ...(o.dnsPort !== undefined ? [{ from: 'OUTPUT' as const, args: ['-p', 'udp', '--dport', '53', ...comment('dns capture'), '-j', CHAIN_OUTBOUND] }] : []),
    ],
  };
}

/** The plan as shell commands, for --dry-run and docs. */
export function renderCommands(plan: CapturePlan, binary = 'iptables'): string[] {
  const q = (a: string) => (/^[\w./:,-]+$/.test(a) ? a : `'${a}'`);
  const lines: string[] = [];
  for (const c of plan.chains) {
    lines.push(`${binary} -t nat -N ${c.name}`);
    for (const r of c.rules) lines.push(`${binary} -t nat -A ${c.name} ${r.map(q).join(' ')}`);
  }
  for (const j of plan.jumps) lines.push(`${binary} -t nat -A ${j.from} ${j.args.map(q).join(' ')}`);
  return lines;
}
