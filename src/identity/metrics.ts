// The identity service's Prometheus metrics: issuances by kind and refusals by reason, rendered in
// the text exposition format so that the `up` process can serve them on its /metrics endpoint.
import { Registry, labelString } from '../core/metrics/registry.js';

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
  const registry = new Registry();
  const issued = registry.counter('identity_cert_issued_total', 'Certificates issued by the identity service.');
  const refused = registry.counter('identity_cert_refused_total', 'Certify requests refused, by reason.');
  const dropped = registry.counter('identity_events_dropped_total', 'Issuance Events not recorded (queue full, or more than 5 per workload within 10 s).').cell('');
  const registered = registry.counter('identity_workloads_registered_total', 'Auto-registrations into WorkloadGroups, by what was done to the member.');
  return {
    issued: (kind) => void issued.cell(labelString({ kind })).value++,
    refused: (reason) => void refused.cell(labelString({ reason })).value++,
    eventsDropped: () => void dropped.value++,
    workloadRegistered: (action) => void registered.cell(labelString({ action })).value++,
    render: () => registry.render(),
  };
}

/** The metrics of the identity component running in this process (one control plane per process). */
export const identityMetrics: IdentityMetrics = createIdentityMetrics();
