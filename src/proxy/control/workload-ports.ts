// The ExternalWorkload's declared ports as the health stream's acks deliver them: unknown until the
// first ack, then the last list is kept through control-plane outages (fail static).
import type { WorkloadPortsSource } from '../types.js';

export class WorkloadPorts implements WorkloadPortsSource {
  private ports: ReadonlySet<number> | undefined;
  private readonly listeners = new Set<(ports: ReadonlySet<number>) => void>();

  current(): ReadonlySet<number> | undefined {
    return this.ports;
  }

  subscribe(listener: (ports: ReadonlySet<number>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called with every ack's list; listeners hear only of changes (and of the first list). */
  set(list: number[]): void {
    const next = new Set(list.filter((p) => Number.isInteger(p) && p > 0 && p <= 65535));
    if (this.ports && next.size === this.ports.size && [...next].every((p) => this.ports!.has(p))) return;
    this.ports = next;
    for (const l of [...this.listeners]) l(next);
  }
}
