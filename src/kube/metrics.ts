// Counters of a process's informers per resource type (watches opened and open, lists, restarts
// after errors), in Prometheus text on the control plane's admin /metrics.

interface Row {
  opened: number;
  open: number;
  lists: number;
  restarts: number;
}

export class InformerMetrics {
  private readonly rows = new Map<string, Row>();

  private row(resource: string): Row {
    let r = this.rows.get(resource);
    if (!r) this.rows.set(resource, (r = { opened: 0, open: 0, lists: 0, restarts: 0 }));
    return r;
  }

  watchOpened(resource: string): void {
    const r = this.row(resource);
    r.opened++;
    r.open++;
  }

  watchClosed(resource: string): void {
    this.row(resource).open--;
  }

  listed(resource: string): void {
    this.row(resource).lists++;
  }

  restarted(resource: string): void {
    this.row(resource).restarts++;
  }

  /** Watch requests opened per resource type since start. */
  watchesOpened(): Record<string, number> {
    return Object.fromEntries([...this.rows].map(([k, r]) => [k, r.opened]));
  }

  text(): string {
    const families: [string, 'counter' | 'gauge', string, keyof Row][] = [
      ['outpost_kube_watches_opened_total', 'counter', 'Watch requests this process opened on the API, per resource type.', 'opened'],
      ['outpost_kube_watches_open', 'gauge', 'Watches open now, per resource type.', 'open'],
      ['outpost_kube_lists_total', 'counter', 'Full lists of a resource type (first sync, and after an error or an expired watch).', 'lists'],
      ['outpost_kube_informer_restarts_total', 'counter', 'Lists or watches retried after an error, per resource type.', 'restarts'],
    ];
    const sorted = [...this.rows].sort(([a], [b]) => a.localeCompare(b));
    return families
      .map(([name, type, help, field]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${sorted.map(([res, r]) => `${name}{resource="${res}"} ${r[field]}\n`).join('')}`)
      .join('');
  }
}
