// The first half of `outpost explain`: can the workload get a certificate (enrolment, certificate)
// and what does its proxy say (heartbeat and probes)? Pure: facts in, sections out.
import { GROUP_LABEL, SERVICE_ACCOUNT_ANNOTATION, groupNameOf, type EffectiveWorkload } from '../core/workloads/effective.js';
import { assumesReady, readyConditionOf } from '../controllers/health/conditions.js';
import { ASSUME_READY_ANNOTATION, REASON } from '../controllers/labels.js';
import type { EventLike, ExplainFacts, Section } from './facts.js';

/** Reasons of the identity service's issuance Events (src/identity/kube.ts). */
export const ISSUANCE_REASONS = ['IdentityIssued', 'IdentityRenewed'];
/** A certificate past this share of its lifetime without a renewal is late (proxies renew at 70 %, like linkerd2-proxy). */
const RENEWAL_OVERDUE_SHARE = 0.85;

export function ewRef(w: EffectiveWorkload): string {
  return `externalworkload ${w.name} -n ${w.namespace}`;
}

export function onboardCommand(w: EffectiveWorkload, extra = ''): string {
  return `outpost workload onboard ${w.name} -n ${w.namespace}${extra}`;
}

export function enrolmentSection(facts: ExplainFacts, w: EffectiveWorkload): Section {
  const details: string[] = [];
  const groupName = groupNameOf(facts.workload);
  const ownBinding = facts.workload.metadata.annotations?.[SERVICE_ACCOUNT_ANNOTATION];
  const data: Record<string, unknown> = { serviceAccount: w.serviceAccount ?? null, identity: w.identity, group: groupName ?? null };
  const base = { id: 'enrolment' as const, title: 'Enrolment', details, data };
  if (groupName) details.push(`group          workloadgroup/${groupName}${facts.group ? '' : ' (does not exist)'}`);
  if (!w.serviceAccount) {
    details.push(`binding        none (annotation ${SERVICE_ACCOUNT_ANNOTATION} on the workload${groupName ? ' or its group' : ''})`);
    const sa = suggestServiceAccount(facts, w);
    data.bound = false;
    return {
      ...base,
      verdict: 'fail',
      summary: 'not bound to a ServiceAccount: the identity service refuses to certify it (docs/adr/0002)',
      fixes: [`kubectl annotate ${ewRef(w)} ${SERVICE_ACCOUNT_ANNOTATION}=${sa ?? 'SERVICE_ACCOUNT'}`, ...(sa ? [] : [`or: ${onboardCommand(w, ' --ip IP')} (creates the ServiceAccount and the binding)`])],
    };
  }
  const inherited = !ownBinding && groupName ? ` (inherited from workloadgroup/${groupName})` : '';
  const exists = facts.serviceAccounts.includes(w.serviceAccount);
  details.push(`binding        serviceaccount/${w.serviceAccount}${inherited}${exists ? '' : ' — does not exist'}`);
  details.push(`identity       ${w.identity}`);
  data.bound = true;
  data.serviceAccountExists = exists;
  if (!exists) {
    return {
      ...base,
      verdict: 'fail',
      summary: `bound to ServiceAccount ${w.serviceAccount}, which does not exist: no token can enrol it`,
      fixes: [`kubectl create serviceaccount ${w.serviceAccount} -n ${w.namespace}`],
    };
  }
  if (groupName && !facts.group) {
    return {
      ...base,
      verdict: 'warn',
      summary: `its ${GROUP_LABEL} label names workloadgroup/${groupName}, which does not exist (no template labels, ports or probes apply)`,
      fixes: [`kubectl get workloadgroups -n ${w.namespace}`, `kubectl label ${ewRef(w)} ${GROUP_LABEL}=GROUP --overwrite`],
    };
  }
  return { ...base, verdict: 'ok', summary: `bound to ServiceAccount ${w.serviceAccount}`, fixes: [] };
}

/** The ServiceAccount a fix should name: the only one of the namespace (besides "default"), or one named after the workload or its app. */
function suggestServiceAccount(facts: ExplainFacts, w: EffectiveWorkload): string | undefined {
  const candidates = facts.serviceAccounts.filter((s) => s !== 'default');
  const app = w.labels.app;
  const named = candidates.find((s) => s === `${w.name}-sa` || s === w.name || (app && (s === app || s === `${app}-sa`)));
  if (named) return named;
  if (candidates.length === 1) return candidates[0];
  const prefixed = candidates.filter((s) => (app && s.startsWith(app)) || w.name.startsWith(s.replace(/-sa$/, '')));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export interface Issuance {
  reason: string;
  at?: number;
  notAfter?: number;
  message?: string;
}

function timeOf(t: Date | string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = new Date(t).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** Issuance Events about this workload, newest first. */
export function issuancesOf(events: EventLike[], w: EffectiveWorkload, uid?: string): Issuance[] {
  const out: Issuance[] = [];
  for (const e of events) {
    const io = e.involvedObject;
    if (!io || io.kind !== 'ExternalWorkload' || io.name !== w.name || (io.namespace ?? w.namespace) !== w.namespace) continue;
    if (uid && io.uid && io.uid !== uid) continue; // about an earlier workload of the same name
    if (!ISSUANCE_REASONS.includes(e.reason ?? '')) continue;
    const until = /valid until (\S+?)(?:[,;)]|$)/.exec(e.message ?? '')?.[1];
    out.push({
      reason: e.reason!,
      at: timeOf(e.lastTimestamp) ?? timeOf(e.eventTime) ?? timeOf(e.firstTimestamp) ?? timeOf(e.metadata?.creationTimestamp),
      notAfter: timeOf(until),
      message: e.message,
    });
  }
  return out.sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
}

/** True when the workload's proxy reports now: only a proxy with a valid certificate can (the health API is mTLS). */
function proxyReporting(facts: ExplainFacts): boolean {
  const c = readyConditionOf(facts.workload);
  const reported = c?.reason === REASON.probesPassing || c?.reason === REASON.probesFailing;
  return reported && facts.workload.status?.proxy?.connected !== false;
}

export function certificateSection(facts: ExplainFacts, w: EffectiveWorkload): Section {
  const now = facts.now;
  const issuances = issuancesOf(facts.events, w, facts.workload.metadata.uid);
  const last = issuances[0];
  const reported = facts.workload.status?.proxy?.certificateNotAfter;
  const notAfter = timeOf(reported) ?? last?.notAfter;
  const source = timeOf(reported) !== undefined ? 'reported by its proxy' : 'from the last issuance Event';
  const details: string[] = [];
  const data: Record<string, unknown> = {
    lastIssuance: last ? { reason: last.reason, at: iso(last.at), notAfter: iso(last.notAfter) } : null,
    issuances: issuances.length,
    certificateNotAfter: iso(notAfter) ?? null,
    certificateNotAfterSource: notAfter === undefined ? null : timeOf(reported) !== undefined ? 'status.proxy' : 'event',
  };
  const base = { id: 'certificate' as const, title: 'Certificate', details, data };
  if (last) details.push(`last issued    ${iso(last.at) ?? '?'} (${last.reason === 'IdentityRenewed' ? 'renewal' : 'bootstrap'}; ${issuances.length} issuance Event${issuances.length === 1 ? '' : 's'})`);
  else details.push('last issued    no issuance Event (Events expire after about an hour)');
  if (notAfter !== undefined) details.push(`valid until    ${iso(notAfter)} (${source}; ${relative(notAfter - now)})`);
  const renew = onboardCommand(w, ' --renew');
  if (notAfter === undefined) {
    if (assumesReady(facts.workload) && !proxyReporting(facts)) {
      return { ...base, verdict: 'ok', summary: `no certificate issued: none needed while it runs no proxy (${ASSUME_READY_ANNOTATION})`, fixes: [] };
    }
    if (proxyReporting(facts)) return { ...base, verdict: 'ok', summary: 'its proxy holds a valid certificate (it reports over mTLS)', fixes: [] };
    return {
      ...base,
      verdict: 'fail',
      summary: 'no certificate has been issued for it (no proxy has enrolled)',
      fixes: [`${onboardCommand(w, ' --ip IP')} (writes a bundle with a bootstrap token), then run its install.sh on the VM`],
    };
  }
  if (notAfter <= now) {
    if (timeOf(reported) === undefined && proxyReporting(facts)) {
      return { ...base, verdict: 'ok', summary: 'renewed since the last issuance Event (its proxy reports over mTLS)', fixes: [] };
    }
    return { ...base, verdict: 'fail', summary: `certificate expired ${relative(notAfter - now)}: peers refuse it; the VM must re-enrol`, fixes: [renew] };
  }
  const lifetime = last?.at !== undefined && last.notAfter !== undefined ? last.notAfter - last.at : undefined;
  if (lifetime && lifetime > 0 && last!.notAfter === notAfter && now - last!.at! > lifetime * RENEWAL_OVERDUE_SHARE) {
    return { ...base, verdict: 'warn', summary: `renewal overdue: the certificate expires ${relative(notAfter - now)} and its proxy has not renewed it`, fixes: ['on the VM: outpost check --proxy', renew] };
  }
  return { ...base, verdict: 'ok', summary: `valid for ${relative(notAfter - now).replace(/^in /, '')}`, fixes: [] };
}

export function healthSection(facts: ExplainFacts, w: EffectiveWorkload): Section {
  const cond = readyConditionOf(facts.workload);
  const proxy = facts.workload.status?.proxy;
  const details: string[] = [];
  const data: Record<string, unknown> = { ready: cond ? cond.status : null, condition: cond ?? null, proxy: proxy ?? null, probes: w.probes };
  const base = { id: 'health' as const, title: 'Heartbeat and probes', details, data };
  if (cond) {
    details.push(`Ready          ${cond.status} (${cond.reason ?? 'no reason'}) since ${cond.lastTransitionTime ?? '?'}`);
    if (cond.message) details.push(`message        ${cond.message}`);
    // The condition is rewritten only when the verdict changes, so its lastProbeTime is when that happened.
    if (!proxy?.lastReportTime) details.push(`probe time     ${cond.lastProbeTime ? `${cond.lastProbeTime} (${relative(timeOf(cond.lastProbeTime)! - facts.now)}; updated when the verdict changes)` : 'never'}`);
  } else details.push('Ready          no condition yet (the controllers have not seen it)');
  if (proxy) {
    const parts = [proxy.version && `version ${proxy.version}`, proxy.adminAddress && `admin ${proxy.adminAddress}`, proxy.connected !== undefined && (proxy.connected ? 'connected' : 'disconnected')].filter(Boolean);
    details.push(`proxy          ${parts.join(', ') || 'reported'}`);
    const at = timeOf(proxy.lastReportTime);
    if (at !== undefined) details.push(`last report    ${proxy.lastReportTime} (${relative(at - facts.now)})`);
  }
  details.push(`probes         ${w.probes.length ? w.probes.map(describeProbe).join('; ') : 'none (ready means the proxy is up)'}`);
  const onVm = 'on the VM: outpost check --proxy';
  const start = `on the VM: systemctl status outpost-proxy (no bundle yet? ${onboardCommand(w, ' --ip IP')})`;
  if (!cond || cond.reason === REASON.awaitingProxy) {
    if (assumesReady(facts.workload)) return { ...base, verdict: 'ok', summary: `assumed ready (${ASSUME_READY_ANNOTATION}=true); no proxy reports for it`, fixes: [] };
    return {
      ...base,
      verdict: 'fail',
      summary: 'no proxy has ever reported for it, so its endpoints are not ready',
      fixes: [start, `if it runs no proxy: kubectl annotate ${ewRef(w)} ${ASSUME_READY_ANNOTATION}=true`],
    };
  }
  switch (cond.reason) {
    case REASON.assumedReady:
      return { ...base, verdict: 'ok', summary: `assumed ready (${ASSUME_READY_ANNOTATION}=true); no proxy reports for it`, fixes: [] };
    case REASON.probesPassing:
      if (proxy?.connected === false) {
        return { ...base, verdict: 'warn', summary: 'its proxy disconnected; it stays ready only until the grace period ends', fixes: [start, onVm] };
      }
      return { ...base, verdict: 'ok', summary: `its proxy reports ready${cond.message ? ` (${cond.message})` : ''}`, fixes: [] };
    case REASON.probesFailing:
      return {
        ...base,
        verdict: 'fail',
        summary: `probes failing: ${cond.message ?? 'the proxy reports not ready'}`,
        fixes: [...w.probes.filter((p) => p.port).map((p) => `on the VM: curl -sS ${(p.scheme ?? 'http').toLowerCase()}://127.0.0.1:${p.port}${p.path ?? '/'}`), onVm],
      };
    case REASON.heartbeatLost:
      return { ...base, verdict: 'fail', summary: `heartbeat lost: ${cond.message ?? 'its proxy stopped reporting'}`, fixes: [start, 'on the VM: journalctl -u outpost-proxy -n 50', onVm] };
    default:
      return cond.status === 'True'
        ? { ...base, verdict: 'ok', summary: `ready (${cond.reason ?? 'no reason'})`, fixes: [] }
        : { ...base, verdict: 'fail', summary: `not ready (${cond.reason ?? 'no reason'}${cond.message ? `: ${cond.message}` : ''})`, fixes: [onVm] };
  }
}

function describeProbe(p: { path?: string; port?: number; scheme?: string; period?: string }): string {
  return `${(p.scheme ?? 'http').toLowerCase()} :${p.port ?? '?'}${p.path ?? '/'}${p.period ? ` every ${p.period}` : ''}`;
}

export function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** "in 3h12m" / "5m ago". */
export function relative(deltaMs: number): string {
  const abs = Math.abs(deltaMs);
  const s = Math.round(abs / 1000);
  const text =
    s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}` : s < 86_400 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}` : `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600) ? `${Math.floor((s % 86_400) / 3600)}h` : ''}`;
  return deltaMs >= 0 ? `in ${text}` : `${text} ago`;
}
