// Table tests of the pure explainer: the typical reasons a VM gets no traffic, each named in the
// right section with the command that fixes it, and the one-line summary.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explainWorkload } from '../../src/explain/explain.js';
import { renderExplanation } from '../../src/explain/render.js';
import type { ExplainFacts, Section, Verdict } from '../../src/explain/facts.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const H = 3_600_000;

/** A healthy, bound, reporting workload behind its Service, with the default policy. */
function healthy(): ExplainFacts {
  return {
    now: NOW,
    workload: {
      metadata: { name: 'payment-processor-vm-1', namespace: 'payments', uid: 'u1', labels: { app: 'payment-processor', environment: 'production' }, annotations: { 'outpost.io/service-account': 'payment-processor-sa' } },
      spec: { meshTLS: { identity: 'spiffe://cluster.local/payment-processor' }, workloadIPs: [{ ip: '10.0.50.100' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], probes: [{ path: '/health', port: 8081, period: '10s' }] },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'ProbesPassing', message: '1 probe passing', lastProbeTime: iso(NOW - 5000), lastTransitionTime: iso(NOW - 4 * H) }],
        proxy: { version: '0.1.0', adminAddress: '127.0.0.1:4191', connected: true, lastReportTime: iso(NOW - 5000), certificateNotAfter: iso(NOW + 20 * H) },
      },
    },
    serviceAccounts: ['default', 'payment-processor-sa'],
    events: [issued(NOW - 4 * H, NOW + 20 * H)],
    services: [{ metadata: { name: 'payment-processor', namespace: 'payments' }, spec: { selector: { app: 'payment-processor' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } }],
    endpointSlices: [slice('payment-processor', 'payment-processor-vm-1', true)],
    policy: {
      servers: [],
      serverAuthorizations: [],
      authorizationPolicies: [],
      httpRoutes: [],
      meshTlsAuthentications: [],
      networkAuthentications: [],
      workloads: [],
      groups: [],
      clusterDefault: 'all-unauthenticated',
      trustDomain: 'cluster.local',
    },
  };
}

/** An Event as src/identity/kube.ts records it. */
function issued(at: number, notAfter: number, reason = 'IdentityIssued'): ExplainFacts['events'][number] {
  return {
    reason,
    type: 'Normal',
    message: `issued certificate for spiffe://cluster.local/payment-processor (serverName payment-processor-vm-1.payments.svc.cluster.local), valid until ${iso(notAfter)}`,
    involvedObject: { kind: 'ExternalWorkload', name: 'payment-processor-vm-1', namespace: 'payments', uid: 'u1' },
    firstTimestamp: new Date(at),
    lastTimestamp: new Date(at),
  };
}

function slice(service: string, workload: string, ready: boolean): ExplainFacts['endpointSlices'][number] {
  return {
    metadata: { name: `${service}-ew-0`, namespace: 'payments', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.50.100'], conditions: { ready }, targetRef: { kind: 'ExternalWorkload', namespace: 'payments', name: workload, uid: 'u1' } }],
  };
}

function condition(f: ExplainFacts, reason: string, status: 'True' | 'False', message: string): void {
  f.workload.status!.conditions = [{ type: 'Ready', status, reason, message, lastProbeTime: iso(NOW - 60_000), lastTransitionTime: iso(NOW - 60_000) }];
}

interface Case {
  name: string;
  change: (f: ExplainFacts) => void;
  section: Section['id'];
  verdict: Verdict;
  summary: RegExp;
  fix?: string;
  /** The closing line; default: "no traffic: " + the section's summary when it fails. */
  closing?: RegExp;
}

const CASES: Case[] = [
  {
    name: 'unbound: names the annotate command with the namespace\'s ServiceAccount',
    change: (f) => delete f.workload.metadata.annotations!['outpost.io/service-account'],
    section: 'enrolment',
    verdict: 'fail',
    summary: /^not bound to a ServiceAccount/,
    fix: 'kubectl annotate externalworkload payment-processor-vm-1 -n payments outpost.io/service-account=payment-processor-sa',
  },
  {
    name: 'bound to a ServiceAccount that does not exist',
    change: (f) => (f.serviceAccounts = ['default']),
    section: 'enrolment',
    verdict: 'fail',
    summary: /payment-processor-sa, which does not exist/,
    fix: 'kubectl create serviceaccount payment-processor-sa -n payments',
  },
  {
    name: 'never reported: start the proxy, or assume-ready for a VM without one',
    change: (f) => {
      condition(f, 'AwaitingProxy', 'False', 'no proxy has reported for this workload yet');
      delete f.workload.status!.proxy;
      f.events = [];
      f.endpointSlices = [slice('payment-processor', 'payment-processor-vm-1', false)];
    },
    section: 'health',
    verdict: 'fail',
    summary: /^no proxy has ever reported/,
    fix: 'if it runs no proxy: kubectl annotate externalworkload payment-processor-vm-1 -n payments outpost.io/assume-ready=true',
    closing: /^no traffic: no certificate has been issued/,
  },
  {
    name: 'probes failing: the proxy\'s message and the probe to try on the VM',
    change: (f) => condition(f, 'ProbesFailing', 'False', 'http-get :8081/health: connection refused'),
    section: 'health',
    verdict: 'fail',
    summary: /^probes failing: http-get :8081\/health: connection refused$/,
    fix: 'on the VM: curl -sS http://127.0.0.1:8081/health',
  },
  {
    name: 'heartbeat lost',
    change: (f) => {
      condition(f, 'HeartbeatLost', 'False', "no report from the workload's proxy for 40s (since 2026-11-25T11:59:00Z)");
      f.workload.status!.proxy!.connected = false;
    },
    section: 'health',
    verdict: 'fail',
    summary: /^heartbeat lost: no report from the workload's proxy for 40s/,
    fix: 'on the VM: journalctl -u outpost-proxy -n 50',
  },
  {
    name: 'no Service selects it: the label that would make the nearest one select it',
    change: (f) => (f.workload.metadata.labels = { app: 'payments', environment: 'production' }),
    section: 'services',
    verdict: 'fail',
    summary: /^no Service of namespace payments selects it$/,
    fix: 'kubectl label externalworkload payment-processor-vm-1 -n payments app=payment-processor --overwrite',
  },
  {
    name: 'selected but not in the EndpointSlice',
    change: (f) => (f.endpointSlices = []),
    section: 'services',
    verdict: 'fail',
    summary: /^selected by svc\/payment-processor but not in its EndpointSlices/,
    fix: 'outpost check',
  },
  {
    name: 'in the slice but not ready there',
    change: (f) => (f.endpointSlices = [slice('payment-processor', 'payment-processor-vm-1', false)]),
    section: 'services',
    verdict: 'fail',
    summary: /^listed by svc\/payment-processor but not ready there/,
  },
  {
    name: 'a Server with no authorization denies everything',
    change: (f) => (f.policy.servers = [{ metadata: { name: 'pp-http', namespace: 'payments' }, spec: { podSelector: { matchLabels: { app: 'payment-processor' } }, port: 'http', proxyProtocol: 'HTTP/1' } }]),
    section: 'policy',
    verdict: 'fail',
    summary: /^the inbound policy denies every connection to port 8080$/,
    fix: 'add a ServerAuthorization (spec.server.name: pp-http) or an AuthorizationPolicy targeting server/pp-http (outpost diagnostics policy externalworkload/payment-processor-vm-1 -n payments --port 8080)',
  },
  {
    name: 'the namespace\'s default policy is deny',
    change: (f) => (f.policy.namespace = { metadata: { name: 'payments', annotations: { 'config.linkerd.io/default-inbound-policy': 'deny' } } }),
    section: 'policy',
    verdict: 'fail',
    summary: /denies every connection to port 8080/,
    fix: 'kubectl annotate externalworkload payment-processor-vm-1 -n payments config.linkerd.io/default-inbound-policy=all-authenticated --overwrite',
  },
  {
    name: 'the certificate its proxy holds expired: re-enrol with --renew',
    change: (f) => {
      f.workload.status!.proxy = { connected: false, certificateNotAfter: iso(NOW - H) };
      condition(f, 'HeartbeatLost', 'False', 'no report');
    },
    section: 'certificate',
    verdict: 'fail',
    summary: /^certificate expired 1h0m ago|^certificate expired 1h ago/,
    fix: 'outpost workload onboard payment-processor-vm-1 -n payments --renew',
  },
  {
    name: 'an expiry read from an old Event while the proxy reports: renewed since',
    change: (f) => {
      delete f.workload.status!.proxy;
      f.events = [issued(NOW - 30 * H, NOW - 6 * H)];
    },
    section: 'certificate',
    verdict: 'ok',
    summary: /^renewed since the last issuance Event/,
    closing: /^traffic can reach it$/,
  },
  {
    name: 'renewal overdue (past 85 % of the lifetime)',
    change: (f) => {
      delete f.workload.status!.proxy;
      f.events = [issued(NOW - 22 * H, NOW + 2 * H)];
    },
    section: 'certificate',
    verdict: 'warn',
    summary: /^renewal overdue/,
    fix: 'outpost workload onboard payment-processor-vm-1 -n payments --renew',
    closing: /^traffic can reach it$/,
  },
];

describe('explainWorkload: typical faults', () => {
  it('all good: every section passes (capture is checked on the VM) and traffic can reach it', () => {
    const e = explainWorkload(healthy());
    assert.deepEqual(
      e.sections.map((s) => [s.id, s.verdict]),
      [['enrolment', 'ok'], ['certificate', 'ok'], ['health', 'ok'], ['services', 'ok'], ['policy', 'ok'], ['capture', 'warn']],
    );
    assert.equal(e.reachable, true);
    assert.equal(e.summary, 'traffic can reach it');
    assert.ok(e.sections.find((s) => s.id === 'capture')!.fixes.includes('on the VM: sudo outpost proxy-init --external-workload --check'));
    assert.ok(e.sections.find((s) => s.id === 'capture')!.fixes.includes('on the VM: outpost check --proxy'));
  });

  for (const c of CASES) {
    it(c.name, () => {
      const f = healthy();
      c.change(f);
      const e = explainWorkload(f);
      const s = e.sections.find((x) => x.id === c.section)!;
      assert.equal(s.verdict, c.verdict, `${s.summary}\n${s.details.join('\n')}`);
      assert.match(s.summary, c.summary);
      if (c.fix) assert.ok(s.fixes.includes(c.fix), `fixes: ${JSON.stringify(s.fixes)}`);
      assert.match(e.summary, c.closing ?? new RegExp(`^no traffic: ${escape(s.summary)}$`));
      assert.equal(e.reachable, c.closing ? /^traffic can reach/.test(e.summary) : false);
    });
  }
});

describe('explainWorkload: groups, assume-ready, policy', () => {
  it('a group member: binding inherited from the group, selected through the template\'s labels', () => {
    const f = healthy();
    f.workload.metadata = { name: 'redis-vm-1', namespace: 'payments', uid: 'u1', labels: { workloadGroup: 'redis-cache-fleet', instance: '1' } };
    f.workload.spec = { workloadIPs: [{ ip: '10.0.200.10' }] };
    f.group = { metadata: { name: 'redis-cache-fleet', namespace: 'payments', annotations: { 'outpost.io/service-account': 'payment-processor-sa' } }, spec: { template: { metadata: { labels: { app: 'redis', tier: 'cache' } }, spec: { ports: [{ name: 'redis', port: 6379 }] } } } };
    f.services = [{ metadata: { name: 'redis-cache', namespace: 'payments' }, spec: { clusterIP: 'None', selector: { app: 'redis', tier: 'cache' }, ports: [{ port: 6379 }] } }];
    f.endpointSlices = [slice('redis-cache', 'redis-vm-1', true)];
    f.events = [];
    const e = explainWorkload(f);
    const enrol = e.sections.find((s) => s.id === 'enrolment')!;
    assert.equal(enrol.verdict, 'ok');
    assert.ok(enrol.details.some((d) => d.includes('serviceaccount/payment-processor-sa (inherited from workloadgroup/redis-cache-fleet)')), enrol.details.join('\n'));
    const svc = e.sections.find((s) => s.id === 'services')!;
    assert.equal(svc.verdict, 'ok', svc.summary);
    assert.equal(svc.summary, 'a ready endpoint of svc/redis-cache');
    assert.deepEqual(e.workload.ports.map((p) => p.port), [6379]);
  });

  it('assume-ready with no proxy: no certificate needed, nothing captured, traffic can reach it', () => {
    const f = healthy();
    f.workload.metadata.annotations!['outpost.io/assume-ready'] = 'true';
    condition(f, 'AssumedReady', 'True', 'annotated outpost.io/assume-ready=true; no proxy has reported');
    delete f.workload.status!.proxy;
    f.events = [];
    const e = explainWorkload(f);
    assert.deepEqual(e.sections.map((s) => s.verdict), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(e.summary, 'traffic can reach it');
  });

  it('the guide\'s postgres-auth: only the api-server ServiceAccount identity may connect, over opaque TCP', () => {
    const f = healthy();
    f.workload.metadata = { name: 'postgres-primary', namespace: 'hybrid-app', uid: 'u1', labels: { app: 'postgres', role: 'primary' } };
    f.workload.spec!.ports = [{ name: 'postgres', port: 5432 }];
    f.policy.servers = [{ metadata: { name: 'postgres-server', namespace: 'hybrid-app' }, spec: { podSelector: { matchLabels: { app: 'postgres' } }, port: 5432, proxyProtocol: 'opaque' } }];
    f.policy.serverAuthorizations = [{ metadata: { name: 'postgres-auth', namespace: 'hybrid-app' }, spec: { server: { name: 'postgres-server' }, client: { meshTLS: { serviceAccounts: [{ name: 'api-server' }] } } } }];
    const policy = explainWorkload(f).sections.find((s) => s.id === 'policy')!;
    assert.equal(policy.verdict, 'ok');
    assert.deepEqual(policy.details, [
      'port 5432 (postgres)',
      '  server/postgres-server, protocol opaque',
      '  allows identities spiffe://cluster.local/ns/hybrid-app/sa/api-server (serverauthorization/postgres-auth)',
    ]);
  });

  it('one port denied and another open is a warning, not a block', () => {
    const f = healthy();
    f.workload.spec!.ports = [{ name: 'http', port: 8080 }, { name: 'admin', port: 9000 }];
    f.policy.servers = [{ metadata: { name: 'admin', namespace: 'payments' }, spec: { podSelector: { matchLabels: { app: 'payment-processor' } }, port: 9000 } }];
    const e = explainWorkload(f);
    const policy = e.sections.find((s) => s.id === 'policy')!;
    assert.equal(policy.verdict, 'warn');
    assert.match(policy.summary, /port 9000$/);
    assert.equal(e.summary, 'traffic can reach it');
  });
});

describe('renderExplanation', () => {
  it('one block per section with its verdict mark and fixes, then the summary line', () => {
    const f = healthy();
    delete f.workload.metadata.annotations!['outpost.io/service-account'];
    const lines = renderExplanation(explainWorkload(f));
    assert.equal(lines[0], 'externalworkload/payment-processor-vm-1 -n payments');
    for (const title of ['Enrolment', 'Certificate', 'Heartbeat and probes', 'Services', 'Inbound policy', 'Traffic capture']) assert.ok(lines.includes(title), title);
    assert.ok(lines.includes('× not bound to a ServiceAccount: the identity service refuses to certify it (docs/adr/0002)'));
    assert.ok(lines.includes('    fix: kubectl annotate externalworkload payment-processor-vm-1 -n payments outpost.io/service-account=payment-processor-sa'));
    assert.ok(lines.some((l) => l.startsWith('✓ a ready endpoint of svc/payment-processor')));
    assert.ok(lines.some((l) => l.startsWith('‼ not visible from here')));
    assert.equal(lines.at(-1), '× no traffic: not bound to a ServiceAccount: the identity service refuses to certify it (docs/adr/0002)');
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('health details', () => {
  it('a passing workload whose proxy just disconnected is a warning; the last report comes from status.proxy', () => {
    const f = healthy();
    f.workload.status!.proxy = { connected: false, lastReportTime: iso(NOW - 20_000) };
    const health = explainWorkload(f).sections.find((s) => s.id === 'health')!;
    assert.equal(health.verdict, 'warn');
    assert.match(health.summary, /disconnected/);
    assert.ok(health.details.includes(`last report    ${iso(NOW - 20_000)} (20s ago)`), health.details.join('\n'));
  });
});

describe('outpost explain arguments', () => {
  it('refuses anything but externalworkload/NAME (or ew/NAME) before reading the API', async () => {
    const { run } = await import('../../src/cli/commands/explain.js');
    await assert.rejects(run(['pod/x', '-n', 'payments', '--kubeconfig', '/nonexistent']), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /expected externalworkload\/NAME, got "pod\/x"/.test(e.message));
    await assert.rejects(run(['ew/x', '-o', 'yaml', '--kubeconfig', '/nonexistent']), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /--output/.test(e.message));
    await assert.rejects(run(['ew/x', '--kubeconfig', '/nonexistent']), (e: Error & { code?: string }) => e.code === 'API_UNREACHABLE');
  });
});
