// The injector's Prometheus metrics: admissions by result, failures by reason (each failure means
// a pod was created without its proxy under failurePolicy Ignore, or refused under Fail).

export interface InjectorMetrics {
  admission(result: string): void;
  failure(reason: string): void;
  eventDropped(): void;
  /** A pod that asked for the proxy was created without it (seen by watching pods). */
  uninjected(): void;
  render(): string;
}

export function createInjectorMetrics(): InjectorMetrics {
  const admissions = new Map<string, number>();
  const failures = new Map<string, number>();
  let dropped = 0;
  let uninjected = 0;
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  return {
    admission: (r) => inc(admissions, r),
    failure: (r) => inc(failures, r),
    eventDropped: () => void dropped++,
    uninjected: () => void uninjected++,
    render: () =>
      [
        '# HELP outpost_injector_admissions_total Pod admission reviews answered, by result (injected, skipped, already-injected, denied, ignored).',
        '# TYPE outpost_injector_admissions_total counter',
        ...[...admissions].map(([k, v]) => `outpost_injector_admissions_total{result="${k}"} ${v}`),
        '# HELP outpost_injector_failures_total Admission reviews the injector could not answer (the API server then applies the webhook failurePolicy), by reason.',
        '# TYPE outpost_injector_failures_total counter',
        ...[...failures].map(([k, v]) => `outpost_injector_failures_total{reason="${k}"} ${v}`),
        '# HELP outpost_injector_events_dropped_total Events not recorded (more than 5 per workload within 10 s, or the queue was full).',
        '# TYPE outpost_injector_events_dropped_total counter',
        `outpost_injector_events_dropped_total ${dropped}`,
        '# HELP outpost_injector_uninjected_pods_total Pods that asked for the proxy and were created without it (the injector was unreachable or failed under failurePolicy Ignore).',
        '# TYPE outpost_injector_uninjected_pods_total counter',
        `outpost_injector_uninjected_pods_total ${uninjected}`,
      ].join('\n') + '\n',
  };
}
