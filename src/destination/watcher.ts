// Keeps one topic per watched Service port (and per profile lookup), recomputes the topics an API
// change touches, and publishes the resulting add/remove/noEndpoints changes to their listeners.
import type { PodNaming } from '../core/workloads/pod.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { EndpointSnapshot } from '../api/model.js';
import type { ServerObject } from '../kube/objects.js';
import { serviceFqdn, type ParsedAuthority } from './authority.js';
import type { KindName } from '../kube/kinds.js';
import type { MeshView } from '../kube/mesh-view.js';
import { resolveAddressProfile, resolveServiceEndpoints, type EndpointLookups } from './endpoints.js';
import { OPAQUE_PORTS_ANNOTATION, parsePortList } from '../core/workloads/opaque-ports.js';
import type { PodObject, ServiceObject } from '../kube/objects.js';
import { SERVICE_NAME_LABEL } from '../kube/objects.js';
import type { Profile, Update } from '../api/gen/destination.js';
import { diffSnapshots, toWireEndpoint, toWireRoutes } from './wire.js';
import { routesForService, type HttpRouteLike, type ServiceRoute } from '../core/routes/http-route.js';

/**
 * Receives the changes of one watched Service port. Listeners MUST NOT BLOCK: the watcher calls
 * them synchronously on the event loop, once per change, for every subscriber in turn. A listener
 * that cannot deliver at once must put the update in a bounded queue and, when that queue is full,
 * close its stream with an error (counted as an overflow) so that the client re-subscribes and
 * gets a fresh snapshot — never wait, never buffer without bound (see core/grpc/bounded-stream.ts).
 */
export type EndpointListener = (updates: Update[]) => void;
/** The profile of a Service port: its name, cluster IP and opaqueness (absent Service: empty name). */
function serviceProfile(svc: ServiceObject | undefined, port: number): Profile {
  if (!svc) return { opaqueProtocol: false, fullyQualifiedName: '' };
  const opaque = parsePortList(svc.metadata.annotations?.[OPAQUE_PORTS_ANNOTATION]).has(port);
  const ip = svc.spec?.clusterIP && svc.spec.clusterIP !== 'None' ? svc.spec.clusterIP : '';
  return { opaqueProtocol: opaque, fullyQualifiedName: serviceFqdn(svc.metadata.name ?? '', svc.metadata.namespace ?? 'default'), clusterIp: ip };
}

function hasClusterIP(svc: ServiceObject, address: string): boolean {
  const spec = svc.spec;
  if (!spec?.clusterIP || spec.clusterIP === 'None') return false;
  return spec.clusterIP === address || (spec.clusterIPs ?? []).includes(address);
}

/** Same contract as EndpointListener, for profile lookups. */
export type ProfileListener = (profile: Profile) => void;

interface EndpointTopic {
  namespace: string;
  name: string;
  port: number;
  snapshot: EndpointSnapshot;
  /** The port's HTTPRoutes and their JSON (to send only real changes). */
  routes: ServiceRoute[];
  routesJson: string;
  listeners: Set<EndpointListener>;
}

interface ProfileTopic {
  authority: Exclude<ParsedAuthority, { kind: 'invalid' }>;
  profile: Profile;
  json: string;
  listeners: Set<ProfileListener>;
}

/** Kinds whose change may touch any Service of its namespace (group templates, Servers). */
const NAMESPACE_WIDE: ReadonlySet<KindName> = new Set(['workloadgroups', 'servers']);
/** Kinds that only touch the Services whose slices point at them (targetRef). */
const TARGETS: Partial<Record<KindName, string>> = { externalworkloads: 'ExternalWorkload', pods: 'Pod' };

export class DestinationWatcher {
  private readonly topics = new Map<string, Map<number, EndpointTopic>>(); // "ns/name" → port → topic
  private readonly profiles = new Map<string, ProfileTopic>();
  private readonly dirtyServices = new Set<string>();
  private dirtyNamespaces = new Set<string>();
  private dirtyRouteNamespaces = new Set<string>();
  private dirtyProfiles = false;
  private flushScheduled = false;
  readonly lookups: EndpointLookups;

  /** `podNaming`: the serverName meshed pods are announced with (`--identity-naming`). */
  constructor(
    private readonly view: MeshView,
    podNaming: PodNaming,
  ) {
    this.lookups = {
      workload: (ns, name) => view.workload(ns, name),
      pod: (ns, name) => view.get<PodObject>('pods', ns, name),
      servers: (ns) => view.list<ServerObject>('servers', ns),
      trustDomain: view.trustDomain,
      podNaming,
    };
    view.onChange((kind, _change, obj, previous) => this.changed(kind, obj, previous));
  }

  /** The current endpoints of a Service port (computed now; for diagnostics and first answers). */
  snapshot(namespace: string, name: string, port: number): EndpointSnapshot {
    const service = this.view.get<ServiceObject>('services', namespace, name);
    return resolveServiceEndpoints({ namespace, name, port, service, slices: this.view.slicesFor(namespace, name) }, this.lookups);
  }

  /** The HTTPRoutes attached to a Service port (parentRefs kind Service), oldest first. */
  routes(namespace: string, name: string, port: number): ServiceRoute[] {
    return routesForService(this.view.list<HttpRouteLike>('httproutes', namespace), namespace, name, port);
  }

  subscribeEndpoints(namespace: string, name: string, port: number, listener: EndpointListener): { initial: Update[]; unsubscribe: () => void } {
    const key = `${namespace}/${name}`;
    let byPort = this.topics.get(key);
    if (!byPort) this.topics.set(key, (byPort = new Map()));
    let topic = byPort.get(port);
    if (!topic) {
      const routes = this.routes(namespace, name, port);
      byPort.set(port, (topic = { namespace, name, port, snapshot: this.snapshot(namespace, name, port), routes, routesJson: JSON.stringify(routes), listeners: new Set() }));
    }
    topic.listeners.add(listener);
    const t = topic;
    return {
      // Endpoints first (the client's first message of a stream resets its state), then routes if any.
      initial: [...diffSnapshots(undefined, t.snapshot), ...(t.routes.length ? [toWireRoutes(t.routes)] : [])],
      unsubscribe: () => {
        t.listeners.delete(listener);
        if (t.listeners.size === 0 && byPort.get(port) === t) {
          byPort.delete(port);
          if (byPort.size === 0 && this.topics.get(key) === byPort) this.topics.delete(key);
        }
      },
    };
  }

  profileOf(authority: Exclude<ParsedAuthority, { kind: 'invalid' }>): Profile {
    if (authority.kind === 'service') {
      const svc = this.view.get<ServiceObject>('services', authority.namespace, authority.name);
      return serviceProfile(svc, authority.port);
    }
    // A Service's cluster IP (what a captured app dialled after resolving the Service's name).
    const byIp = this.view.list<ServiceObject>('services').find((s) => hasClusterIP(s, authority.address));
    if (byIp) return serviceProfile(byIp, authority.port);
    const r = resolveAddressProfile(authority.address, authority.port, { workloads: this.view.workloads(), pods: this.view.list<PodObject>('pods') }, this.lookups);
    return { opaqueProtocol: r.opaque, ...(r.endpoint ? { endpoint: toWireEndpoint(r.endpoint) } : {}), fullyQualifiedName: '' };
  }

  subscribeProfile(authority: Exclude<ParsedAuthority, { kind: 'invalid' }>, listener: ProfileListener): { initial: Profile; unsubscribe: () => void } {
    const key = JSON.stringify(authority);
    let topic = this.profiles.get(key);
    if (!topic) {
      const profile = this.profileOf(authority);
      this.profiles.set(key, (topic = { authority, profile, json: JSON.stringify(profile), listeners: new Set() }));
    }
    topic.listeners.add(listener);
    const t = topic;
    return {
      initial: t.profile,
      unsubscribe: () => {
        t.listeners.delete(listener);
        if (t.listeners.size === 0 && this.profiles.get(key) === t) this.profiles.delete(key);
      },
    };
  }

  /** Number of listeners, for tests and metrics. */
  listenerCount(): number {
    let n = 0;
    for (const byPort of this.topics.values()) for (const t of byPort.values()) n += t.listeners.size;
    for (const p of this.profiles.values()) n += p.listeners.size;
    return n;
  }

  private changed(kind: KindName, obj: KubernetesObject, previousService: string | undefined): void {
    const ns = obj.metadata?.namespace ?? 'default';
    if (kind === 'services') {
      this.dirtyServices.add(`${ns}/${obj.metadata?.name}`);
      this.dirtyProfiles = true;
    } else if (kind === 'endpointslices') {
      const svc = obj.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (svc) this.dirtyServices.add(`${ns}/${svc}`);
      if (previousService) this.dirtyServices.add(previousService);
    } else if (TARGETS[kind]) {
      for (const key of this.view.servicesTargeting(ns, TARGETS[kind]!, obj.metadata?.name ?? '')) this.dirtyServices.add(key);
      this.dirtyProfiles = true;
    } else if (kind === 'httproutes') {
      // Producer routes only: a route touches the Services of its own namespace.
      this.dirtyRouteNamespaces.add(ns);
    } else if (NAMESPACE_WIDE.has(kind)) {
      this.dirtyNamespaces.add(ns);
      this.dirtyProfiles = true;
    } else return;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Coalesce a burst (a relist delivers every object synchronously) into one recomputation.
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const services = new Set(this.dirtyServices);
    this.dirtyServices.clear();
    const namespaces = this.dirtyNamespaces;
    this.dirtyNamespaces = new Set();
    if (namespaces.size) for (const key of this.topics.keys()) if (namespaces.has(key.split('/')[0])) services.add(key);
    for (const key of services) {
      for (const topic of this.topics.get(key)?.values() ?? []) this.recompute(topic);
    }
    const routeNamespaces = this.dirtyRouteNamespaces;
    this.dirtyRouteNamespaces = new Set();
    if (routeNamespaces.size) {
      for (const [key, byPort] of this.topics) if (routeNamespaces.has(key.split('/')[0])) for (const topic of byPort.values()) this.recomputeRoutes(topic);
    }
    if (this.dirtyProfiles) {
      this.dirtyProfiles = false;
      for (const topic of this.profiles.values()) {
        const profile = this.profileOf(topic.authority);
        const json = JSON.stringify(profile);
        if (json === topic.json) continue;
        topic.profile = profile;
        topic.json = json;
        for (const l of [...topic.listeners]) l(profile);
      }
    }
  }

  private recomputeRoutes(topic: EndpointTopic): void {
    const routes = this.routes(topic.namespace, topic.name, topic.port);
    const json = JSON.stringify(routes);
    if (json === topic.routesJson) return;
    topic.routes = routes;
    topic.routesJson = json;
    const update = [toWireRoutes(routes)];
    for (const l of [...topic.listeners]) l(update);
  }

  private recompute(topic: EndpointTopic): void {
    const next = this.snapshot(topic.namespace, topic.name, topic.port);
    const updates = diffSnapshots(topic.snapshot, next);
    topic.snapshot = next;
    if (updates.length === 0) return;
    for (const l of [...topic.listeners]) l(updates);
  }
}
