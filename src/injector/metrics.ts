// The injector's Prometheus metrics: admissions by result, failures by reason (each failure means
// a pod was created without its proxy under failurePolicy Ignore, or refused under Fail).
import { Registry, labelString } from '../core/metrics/registry.js';

export interface InjectorMetrics {
  admission(result: string): void;
  failure(reason: string): void;
  eventDropped(): void;
  /** A pod that asked for the proxy was created without it (seen by watching pods). */
  uninjected(): void;
  render(): string;
}

export function createInjectorMetrics(): InjectorMetrics {
  const registry = new Registry();
  const admissions = registry.counter('outpost_injector_admissions_total', 'Pod admission reviews answered, by result (injected, skipped, already-injected, denied, ignored).');
  const failures = registry.counter('outpost_injector_failures_total', 'Admission reviews the injector could not answer (the API server then applies the webhook failurePolicy), by reason.');
  const dropped = registry.counter('outpost_injector_events_dropped_total', 'Events not recorded (more than 5 per workload within 10 s, or the queue was full).').cell('');
  const uninjected = registry.counter('outpost_injector_uninjected_pods_total', 'Pods that asked for the proxy and were created without it (the injector was unreachable or failed under failurePolicy Ignore).').cell('');
  return {
    admission: (result) => void admissions.cell(labelString({ result })).value++,
    failure: (reason) => void failures.cell(labelString({ reason })).value++,
    eventDropped: () => void dropped.value++,
    uninjected: () => void uninjected.value++,
    render: () => registry.render(),
  };
}
