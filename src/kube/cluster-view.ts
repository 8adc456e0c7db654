// The one cache of the API per process: an informer per resource type, started on first use and
// shared by every component that reads that type (controllers, identity, destination, policy, viz).
// `outpost up` hands the same view to all its components; in a cluster each Deployment's process
// has its own. Components receive it as a parameter; it is stopped by whoever created it.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import type { ControlPlaneComponent, ControlPlaneContext } from '../core/component.js';
import type { Logger } from '../core/log.js';
import { Informer, type Backoff } from './informer.js';
import { kindPath, type KindName } from './kinds.js';
import { InformerMetrics } from './metrics.js';

export interface ClusterViewOptions {
  kubeConfig: KubeConfig;
  clock: Clock;
  log: Logger;
  /** Resync period for subscribers that ask for one (default 10 minutes). */
  resyncMs?: number;
  backoff?: Backoff;
  /** Counters to add to (one set per process, when it has several views); a new set by default. */
  metrics?: InformerMetrics;
}

export interface InformerScope {
  /** Watch one namespace only (for a type the process may not read cluster-wide, e.g. ConfigMaps). */
  namespace?: string;
  /**
   * Only objects with these labels. For a type one reader needs in part and no other reads (the
   * controllers' own core/v1 Endpoints): a second scope of the same type would be a second watch.
   */
  labelSelector?: string;
}

export const DEFAULT_RESYNC_MS = 10 * 60_000;

export class ClusterView {
  readonly metrics: InformerMetrics;
  private readonly informers = new Map<string, Informer>();
  private stopped = false;

  constructor(private readonly opts: ClusterViewOptions) {
    this.metrics = opts.metrics ?? new InformerMetrics();
  }

  /** The credentials the view reads the API with (components that also write use the same). */
  get kubeConfig(): KubeConfig {
    return this.opts.kubeConfig;
  }

  /** The shared, started informer of a kind (created on first use). */
  informer<T extends KubernetesObject = KubernetesObject>(kind: KindName, scope: InformerScope = {}): Informer<T> {
    const resource = `${kind}${scope.namespace === undefined ? '' : `/${scope.namespace}`}${scope.labelSelector ? `?${scope.labelSelector}` : ''}`;
    let informer = this.informers.get(resource);
    if (!informer) {
      informer = new Informer({
        kubeConfig: this.opts.kubeConfig,
        path: kindPath(kind, scope.namespace),
        resource,
        labelSelector: scope.labelSelector,
        clock: this.opts.clock,
        log: this.opts.log.child('informer'),
        metrics: this.metrics,
        resyncMs: this.opts.resyncMs ?? DEFAULT_RESYNC_MS,
        backoff: this.opts.backoff,
      });
      this.informers.set(resource, informer);
      if (!this.stopped) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** Resource types watched so far (the keys of `informer`). */
  resources(): string[] {
    return [...this.informers.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/** What `outpost up` hands a component: the common context plus this process's cluster view. */
export interface ClusterContext extends ControlPlaneContext {
  cluster: ClusterView;
}

/** A control-plane component that reads the API through the process's shared cluster view. */
export type ClusterComponent<O> = ControlPlaneComponent<O, ClusterContext>;
