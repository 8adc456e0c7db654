// Which local ports the inbound forwards to: only the workload's declared ports (its ExternalWorkload's
// spec.ports as the health stream delivers them, a port a Server selects, `inbound.ports` in the
// config) and never one of the proxy's own listeners. A peer naming any other port (outpost-dst-port,
// the transport header) is refused before a byte reaches 127.0.0.1. See docs/proxy.md.
import type { ProxyContext } from '../context.js';
import type { WorkloadPortsSource } from '../types.js';
import type { InboundPortPolicy } from '../../api/model.js';
import { onFirstUpdate } from './first-update.js';

export type TargetRefusalReason = 'proxy_port' | 'undeclared_port';

export interface TargetRefusal {
  reason: TargetRefusalReason;
  /** For the l5d-proxy-error header and the log: names the port and what to do. */
  message: string;
}

export interface TargetPortInputs {
  /** The proxy's own listening ports, by role (admin, tap, inbound, outbound, upstream). */
  ownPorts: ReadonlyMap<number, string>;
  /** `inbound.ports` and `policy.ports` of the config. */
  configured: ReadonlySet<number>;
  /** The ExternalWorkload's ports; undefined = not known (no control plane, or no answer yet). */
  workloadPorts: ReadonlySet<number> | undefined;
  /** The port's policy; a Server selecting the port declares it. */
  policy: InboundPortPolicy | undefined;
}

/** Pure: undefined when the inbound may forward to 127.0.0.1:port, else why not. */
export function targetPortRefusal(port: number, inputs: TargetPortInputs): TargetRefusal | undefined {
  const own = inputs.ownPorts.get(port);
  if (own) return { reason: 'proxy_port', message: `target port ${port} is this proxy's ${own} port, never reachable through the inbound` };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { reason: 'undeclared_port', message: `target port ${port} is not a port number` };
  if (inputs.configured.has(port) || inputs.workloadPorts?.has(port) || inputs.policy?.labels.kind === 'server') return undefined;
  return {
    reason: 'undeclared_port',
    message: `target port ${port} is not a port of this workload (declare it in the ExternalWorkload's spec.ports, select it with a Server, or list it in the proxy's inbound.ports)`,
  };
}

/** The inbound's view of its target ports: refusals counted in inbound_target_port_refused_total and logged. */
export class InboundTargets {
  private readonly configured: Set<number>;
  private readonly workloadPorts: WorkloadPortsSource | undefined;

  constructor(private readonly ctx: Pick<ProxyContext, 'config' | 'ownPorts' | 'workloadPorts' | 'metrics' | 'log' | 'clock'>) {
    this.configured = new Set([...ctx.config.inbound.ports, ...ctx.config.policy.ports.map((p) => p.port)]);
    this.workloadPorts = ctx.workloadPorts;
  }

  /** Undefined = allowed; else the refusal, already counted and logged. */
  check(port: number, policy: InboundPortPolicy | undefined, client: string | undefined): TargetRefusal | undefined {
    const refusal = targetPortRefusal(port, { ownPorts: this.ctx.ownPorts, configured: this.configured, workloadPorts: this.workloadPorts?.current(), policy });
    if (refusal) {
      this.ctx.metrics.targetPortRefused.cell(`direction="inbound",reason="${refusal.reason}"`).value++;
      this.ctx.log.info('inbound target port refused', { port, client: client ?? '(no identity)', reason: refusal.message });
    }
    return refusal;
  }

  /**
   * Calls `cb` once the workload's ports are known (the first health ack), or after `timeoutMs`:
   * right after a start, requests to a declared port wait for the list instead of being refused.
   */
  whenKnown(port: number, timeoutMs: number, cb: () => void): void {
    const src = this.workloadPorts;
    if (!src || src.current() !== undefined || this.configured.has(port) || this.ctx.ownPorts.has(port)) return cb();
    onFirstUpdate(src, this.ctx.clock, timeoutMs, cb);
  }
}
