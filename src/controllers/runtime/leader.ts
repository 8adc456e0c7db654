// Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection, simplified): only
// the holder writes, so two control planes on one API never both reconcile. Expiry is judged by the
// local clock since the record was last seen to change, which tolerates clock skew between hosts.
import { ApiException, CoordinationV1Api, CoreV1Api, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { ApiClients } from '../../core/kube-clients.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';

export interface LeaderElectionOptions {
  api: ApiClients;
  namespace: string;
  name: string;
  identity: string;
  clock: Clock;
  log: Logger;
  /** How long a lease holds without renewal (client-go default 15 s). */
  leaseDurationMs?: number;
  /** How often to renew or retry (client-go default 2 s). */
  retryPeriodMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: TimerHandle;
  private inflight: Promise<void> = Promise.resolve();
  private observed?: { record: string; at: number };
  private lastRenewal = 0;
  private readonly leases: CoordinationV1Api;
  private readonly core: CoreV1Api;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leases = opts.api.make(CoordinationV1Api);
    this.core = opts.api.make(CoreV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private get durationMs(): number {
    return this.opts.leaseDurationMs ?? 15_000;
  }

  async start(): Promise<void> {
    await this.runTick();
  }

  /** Stops trying; a leader releases the lease so that another control plane takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    // A renewal already on the wire must finish first: otherwise it could report leadership after
    // this stop, or renew the lease after it was released.
    await this.inflight;
    if (this.leading) {
      this.setLeading(false);
      try {
        const lease = await this.leases.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
        if (lease.spec?.holderIdentity === this.opts.identity) {
          lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(this.opts.clock.now()) };
          await this.leases.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: lease });
        }
      } catch (e) {
        this.opts.log.debug('could not release the lease', { error: e });
      }
    }
  }

  private async ensureNamespace(): Promise<void> {
    try {
      await this.core.createNamespace({ body: { metadata: { name: this.opts.namespace } } });
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 409)) this.opts.log.debug('could not create namespace', { namespace: this.opts.namespace, error: e });
    }
  }

  private runTick(): Promise<void> {
    this.inflight = this.tick();
    return this.inflight;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.opts.log.debug('lease update failed', { error: e });
    }
    if (this.stopped) return; // stop() decides what leadership ends as
    const now = this.opts.clock.now();
    if (ok) this.lastRenewal = now;
    // A leader that cannot renew steps down before the lease could expire for the others.
    if (this.leading && !ok && now - this.lastRenewal > this.durationMs * (2 / 3)) this.setLeading(false);
    else if (!this.leading && ok) this.setLeading(true);
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => void this.runTick(), this.opts.retryPeriodMs ?? 2_000);
    this.timer.unref?.();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = this.opts.clock.now();
    let lease: V1Lease;
    try {
      lease = await this.leases.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 404)) throw e;
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.durationMs / 1000), acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now), leaseTransitions: 0 },
      };
      try {
        await this.leases.createNamespacedLease({ namespace, body });
        return true;
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return false;
        if (!(err instanceof ApiException && err.code === 404)) throw err;
      }
      // 404: the namespace is missing. Only then create it (in a cluster `outpost install` made it, and
      // the controllers' ServiceAccount may not create namespaces), and try once more.
      await this.ensureNamespace();
      try {
        await this.leases.createNamespacedLease({ namespace, body });
        return true;
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, String(spec.renewTime), spec.leaseDurationSeconds]);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const holder = spec.holderIdentity ?? '';
    const expired = this.observed.at + (spec.leaseDurationSeconds ?? 0) * 1000 <= now;
    if (holder && holder !== identity && !expired) return false;
    const taking = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      renewTime: new V1MicroTime(now),
      ...(taking ? { acquireTime: new V1MicroTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      await this.leases.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (e) {
      if (e instanceof ApiException && e.code === 409) return false;
      throw e;
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.opts.log.info(leading ? 'became leader' : 'stopped leading', { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }
}
