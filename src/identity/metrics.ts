// The identity service's Prometheus metrics: issuances by kind and refusals by reason, rendered in
// the text exposition format so that the `up` process can serve them on its /metrics endpoint.

export interface IdentityMetrics {
  issued(kind: 'bootstrap' | 'renewal' | 'service'): void;
  refused(reason: string): void;
  eventsDropped(): void;
  /** Auto-registration (docs/adr/0010): a member created, reclaimed (restored), or found as it should be. */
  workloadRegistered(action: 'create' | 'reclaim' | 'keep'): void;
  /** Prometheus text exposition (version 0.0.4). */
  render(): string;
}

export function createIdentityMetrics(): IdentityMetrics {
  const issued = new Map<string, number>();
  const refused = new Map<string, number>();
  const registered = new Map<string, number>();
  let dropped = 0;
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  return {
    issued: (kind) => inc(issued, kind),
    refused: (reason) => inc(refused, reason),
    eventsDropped: () => void dropped++,
    workloadRegistered: (action) => inc(registered, action),
    render() {
      const lines = [
        '# HELP identity_cert_issued_total Certificates issued by the identity service.',
        '# TYPE identity_cert_issued_total counter',
        ...[...issued].map(([k, v]) => `identity_cert_issued_total{kind="${k}"} ${v}`),
        '# HELP identity_cert_refused_total Certify requests refused, by reason.',
        '# TYPE identity_cert_refused_total counter',
        ...[...refused].map(([k, v]) => `identity_cert_refused_total{reason="${k}"} ${v}`),
        '# HELP identity_events_dropped_total Issuance Events not recorded (queue full, or more than 5 per workload within 10 s).',
        '# TYPE identity_events_dropped_total counter',
        `identity_events_dropped_total ${dropped}`,
        '# HELP identity_workloads_registered_total Auto-registrations into WorkloadGroups, by what was done to the member.',
        '# TYPE identity_workloads_registered_total counter',
        ...[...registered].map(([k, v]) => `identity_workloads_registered_total{action="${k}"} ${v}`),
      ];
      return lines.join('\n') + '\n';
    },
  };
}

/** The metrics of the identity component running in this process (one control plane per process). */
export const identityMetrics: IdentityMetrics = createIdentityMetrics();
