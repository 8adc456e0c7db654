// The second half of `outpost explain`: which Services send to the workload (selectors against its
// effective labels, EndpointSlices), what the inbound policy of each port allows (computed by
// src/policy/compute.ts, not re-derived here), and how to check capture on the VM. Pure.
import { effectiveWorkload, type EffectiveWorkload, type WorkloadGroupLike } from '../core/workloads/effective.js';
import { assumesReady, neverReported, readyConditionOf } from '../controllers/health/conditions.js';
import { DEFAULT_POLICY_ANNOTATION, computeInboundPolicy } from '../policy/compute.js';
import { SERVICE_NAME_LABEL, type ServiceObject } from '../kube/objects.js';
import { serviceSelectorMatches as selectorMatches } from '../kube/selectors.js';
import type { Authorization, InboundPortPolicy } from '../api/model.js';
import { describeMatch } from '../core/routes/http-route.js';
import type { ExplainFacts, Section } from './facts.js';
import { ewRef } from './workload-sections.js';

interface ServiceFinding {
  service: string;
  selector: Record<string, string>;
  inSlice: boolean;
  ready: boolean;
  slices: string[];
  addresses: string[];
  missingNamedPorts: string[];
  /** "port→targetPort/protocol" of each Service port. */
  ports: string[];
}

export function servicesSection(facts: ExplainFacts, w: EffectiveWorkload): Section {
  const withSelector = facts.services.filter((s) => Object.keys(s.spec?.selector ?? {}).length > 0);
  const selecting = withSelector.filter((s) => selectorMatches(s.spec?.selector, w.labels));
  const findings = selecting.map((s) => findingFor(facts, w, s));
  const details: string[] = [`labels         ${formatSelector(w.labels) || '(none)'}${w.group ? ` (effective, with workloadgroup/${w.group})` : ''}`];
  const data: Record<string, unknown> = { selectedBy: findings };
  const base = { id: 'services' as const, title: 'Services', details, data };
  for (const f of findings) {
    const state = !f.inSlice ? 'NOT in its EndpointSlices' : f.ready ? `in ${f.slices.join(', ')} (ready)` : `in ${f.slices.join(', ')} (NOT ready)`;
    details.push(`${`svc/${f.service}`.padEnd(14)} selects it (${formatSelector(f.selector)}); ports ${f.ports.join(', ') || 'none'}; ${state}`);
    if (f.missingNamedPorts.length) details.push(`${''.padEnd(15)}targetPort ${f.missingNamedPorts.join(', ')} is not a port name of the workload`);
  }
  if (findings.length === 0) {
    const near = nearestService(withSelector, w);
    if (near) details.push(`${`svc/${near.service.metadata.name}`.padEnd(14)} selects ${formatSelector(near.service.spec!.selector!)}: would select it with ${formatSelector(near.missing)}`);
    data.nearest = near ? { service: near.service.metadata.name, missing: near.missing } : null;
    return {
      ...base,
      verdict: 'fail',
      summary: withSelector.length ? `no Service of namespace ${w.namespace} selects it` : `namespace ${w.namespace} has no Service with a selector`,
      fixes: near
        ? [`kubectl label ${ewRef(w)} ${formatSelector(near.missing).replaceAll(',', ' ')}${Object.keys(near.missing).some((k) => k in w.labels) ? ' --overwrite' : ''}`]
        : [`create a Service in ${w.namespace} whose spec.selector matches its labels (e.g. ${formatSelector(pickOne(w.labels)) || 'app=NAME'})`],
    };
  }
  if (w.ips.length === 0) {
    return { ...base, verdict: 'fail', summary: 'it has no spec.workloadIPs, so no Service can list it', fixes: [`kubectl patch ${ewRef(w)} --type merge -p '{"spec":{"workloadIPs":[{"ip":"IP"}]}}'`] };
  }
  const missing = findings.filter((f) => !f.inSlice);
  if (missing.length) {
    return {
      ...base,
      verdict: 'fail',
      summary: `selected by ${missing.map((f) => `svc/${f.service}`).join(', ')} but not in ${missing.length === 1 ? 'its' : 'their'} EndpointSlices (is the endpoints controller running?)`,
      fixes: ['outpost check', ...missing.map((f) => `kubectl get endpointslices -n ${w.namespace} -l ${SERVICE_NAME_LABEL}=${f.service} -o yaml`)],
    };
  }
  const notReady = findings.filter((f) => !f.ready);
  if (notReady.length) {
    return { ...base, verdict: 'fail', summary: `listed by ${notReady.map((f) => `svc/${f.service}`).join(', ')} but not ready there (see Heartbeat and probes)`, fixes: [] };
  }
  return { ...base, verdict: 'ok', summary: `a ready endpoint of ${findings.map((f) => `svc/${f.service}`).join(', ')}`, fixes: [] };
}

function findingFor(facts: ExplainFacts, w: EffectiveWorkload, svc: ServiceObject): ServiceFinding {
  const name = svc.metadata.name ?? '';
  const slices = facts.endpointSlices.filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
  const uid = facts.workload.metadata.uid;
  const found: string[] = [];
  const addresses: string[] = [];
  let ready = false;
  for (const slice of slices) {
    for (const ep of slice.endpoints ?? []) {
      const ref = ep.targetRef;
      if (ref?.kind !== 'ExternalWorkload' || ref.name !== w.name || (uid && ref.uid && ref.uid !== uid)) continue;
      if (!found.includes(slice.metadata.name ?? '')) found.push(slice.metadata.name ?? '');
      addresses.push(...ep.addresses);
      if (ep.conditions?.ready !== false) ready = true;
    }
  }
  const portNames = new Set(w.ports.map((p) => p.name).filter(Boolean));
  const missingNamedPorts = (svc.spec?.ports ?? [])
    .map((p) => p.targetPort)
    .filter((t): t is string => typeof t === 'string' && !/^\d+$/.test(t) && !portNames.has(t));
  const ports = (svc.spec?.ports ?? []).map((p) => `${p.port}→${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`);
  return { service: name, selector: svc.spec?.selector ?? {}, ports, inSlice: found.length > 0, ready: found.length > 0 && ready, slices: found, addresses, missingNamedPorts };
}

/** The Service that needs the fewest label changes to select the workload. */
function nearestService(services: ServiceObject[], w: EffectiveWorkload): { service: ServiceObject; missing: Record<string, string> } | undefined {
  let best: { service: ServiceObject; missing: Record<string, string> } | undefined;
  for (const s of services) {
    const missing = Object.fromEntries(Object.entries(s.spec!.selector!).filter(([k, v]) => w.labels[k] !== v));
    const n = Object.keys(missing).length;
    // A Service that shares nothing with the workload is no hint.
    if (n === Object.keys(s.spec!.selector!).length && !Object.keys(missing).some((k) => k in w.labels)) continue;
    if (!best || n < Object.keys(best.missing).length) best = { service: s, missing };
  }
  return best;
}

function pickOne(labels: Record<string, string>): Record<string, string> {
  const key = 'app' in labels ? 'app' : Object.keys(labels).find((k) => k !== 'workloadGroup');
  return key ? { [key]: labels[key] } : {};
}

function formatSelector(sel: Record<string, string>): string {
  return Object.keys(sel)
    .sort()
    .map((k) => `${k}=${sel[k]}`)
    .join(',');
}

export interface PortPolicyFinding {
  port: number;
  name?: string;
  policy: InboundPortPolicy;
  deniesAll: boolean;
  lines: string[];
}

/** Ports to explain: the declared ones, plus numeric targetPorts of the Services that select it. */
function portsToExplain(facts: ExplainFacts, w: EffectiveWorkload): { port: number; name?: string }[] {
  const out = new Map<number, { port: number; name?: string }>();
  for (const p of w.ports) out.set(p.port, { port: p.port, name: p.name });
  for (const s of facts.services) {
    if (!selectorMatches(s.spec?.selector, w.labels)) continue;
    for (const sp of s.spec?.ports ?? []) {
      const t = sp.targetPort ?? sp.port;
      if (typeof t === 'number' || /^\d+$/.test(String(t))) {
        const port = Number(t);
        if (!out.has(port)) out.set(port, { port });
      }
    }
  }
  return [...out.values()].sort((a, b) => a.port - b.port);
}

export function policySection(facts: ExplainFacts, w: EffectiveWorkload): Section {
  const p = facts.policy;
  const groups = new Map(p.groups.map((g) => [`${g.metadata.namespace ?? 'default'}/${g.metadata.name}`, g] as [string, WorkloadGroupLike]));
  const workloads = p.workloads.map((x) => {
    const ns = x.metadata.namespace ?? 'default';
    const g = x.metadata.labels?.workloadGroup;
    return effectiveWorkload(x, g ? groups.get(`${ns}/${g}`) : undefined, p.trustDomain);
  });
  const findings: PortPolicyFinding[] = portsToExplain(facts, w).map(({ port, name }) => {
    const policy = computeInboundPolicy({ ...p, workload: w, port, workloads });
    return { port, name, policy, deniesAll: deniesAll(policy), lines: describePolicy(policy) };
  });
  const details: string[] = [];
  for (const f of findings) {
    details.push(`port ${f.port}${f.name ? ` (${f.name})` : ''}`);
    details.push(...f.lines.map((l) => `  ${l}`));
  }
  const data = { ports: findings.map((f) => ({ port: f.port, name: f.name ?? null, deniesAll: f.deniesAll, policy: f.policy })) };
  const base = { id: 'policy' as const, title: 'Inbound policy', details, data };
  if (findings.length === 0) {
    details.push('no ports declared and no Service port selects it');
    return { ...base, verdict: 'warn', summary: 'no port to explain', fixes: [] };
  }
  const denied = findings.filter((f) => f.deniesAll);
  if (denied.length === 0) return { ...base, verdict: 'ok', summary: `every port admits some clients (${findings.length} port${findings.length === 1 ? '' : 's'})`, fixes: [] };
  const fixes = denied.map((f) =>
    f.policy.labels.kind === 'server'
      ? `add a ServerAuthorization (spec.server.name: ${f.policy.labels.name}) or an AuthorizationPolicy targeting server/${f.policy.labels.name} (outpost diagnostics policy externalworkload/${w.name} -n ${w.namespace} --port ${f.port})`
      : `kubectl annotate ${ewRef(w)} ${DEFAULT_POLICY_ANNOTATION}=all-authenticated --overwrite`,
  );
  const ports = denied.map((f) => f.port).join(', ');
  return {
    ...base,
    verdict: denied.length === findings.length ? 'fail' : 'warn',
    summary: `the inbound policy denies every connection to port${denied.length === 1 ? '' : 's'} ${ports}`,
    fixes: [...new Set(fixes)],
  };
}

function deniesAll(p: InboundPortPolicy): boolean {
  return p.authorizations.length === 0 && p.httpRoutes.every((r) => r.authorizations.length === 0);
}

/** A few lines: which Server (or default policy), protocol, and who is allowed. */
export function describePolicy(p: InboundPortPolicy): string[] {
  const lines = [
    p.labels.kind === 'server' ? `server/${p.labels.name}, protocol ${p.protocol}` : `no Server selects it: default policy ${p.labels.name}, protocol ${p.protocol}`,
  ];
  if (p.authorizations.length === 0 && p.httpRoutes.length === 0) lines.push('allows nobody: every connection is denied');
  for (const a of p.authorizations) lines.push(`allows ${describeAuthorization(a)}`);
  for (const r of p.httpRoutes) {
    const what = r.matches.map(describeMatch).join(' | ') || 'no match';
    if (r.authorizations.length === 0) lines.push(`route httproute/${r.labels.name} (${what}): allows nobody`);
    for (const a of r.authorizations) lines.push(`route httproute/${r.labels.name} (${what}): allows ${describeAuthorization(a)}`);
  }
  return lines;
}

export function describeAuthorization(a: Authorization): string {
  const who =
    a.authentication.kind === 'unauthenticated'
      ? 'any client, unauthenticated (plaintext) included'
      : a.authentication.identities.includes('*')
        ? 'any authenticated mesh identity'
        : `identities ${a.authentication.identities.join(', ')}`;
  const everywhere = a.networks.length > 0 && a.networks.every((n) => (n.net === '0.0.0.0/0' || n.net === '::/0') && n.except.length === 0);
  const from = a.networks.length && !everywhere ? ` from ${a.networks.map((n) => n.net + (n.except.length ? ` except ${n.except.join(',')}` : '')).join(', ')}` : '';
  const by = a.labels.kind === 'default' ? '' : ` (${a.labels.kind}/${a.labels.name})`;
  return `${who}${from}${by}`;
}

export function captureSection(facts: ExplainFacts, w: EffectiveWorkload): Section {
  const runsNoProxy = assumesReady(facts.workload) && neverReported(readyConditionOf(facts.workload));
  const check = 'on the VM: sudo outpost proxy-init --external-workload --check';
  const details = ['the control plane cannot see the VM\'s iptables rules; they are checked on the VM'];
  const base = { id: 'capture' as const, title: 'Traffic capture', details, data: { visible: false, runsNoProxy } };
  if (runsNoProxy) return { ...base, verdict: 'ok', summary: 'it runs no proxy (assume-ready), so nothing is captured', fixes: [] };
  return {
    ...base,
    verdict: 'warn',
    summary: `not visible from here: check it on the VM (ports ${w.ports.map((p) => p.port).join(', ') || 'none declared'})`,
    fixes: [check, 'on the VM: outpost check --proxy', 'to install the rules: sudo outpost proxy-init --external-workload'],
  };
}
