// The wire half of `outpost explain`: reads the objects around one ExternalWorkload through
// @kubernetes/client-node (one list per kind, no watch) into ExplainFacts for the pure explainer.
import { ApiException, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { OutpostError } from '../core/errors.js';
import { groupNameOf, type WorkloadGroupLike } from '../core/workloads/effective.js';
import { KIND_PATHS, type KindName } from '../kube/kinds.js';
import type { DefaultPolicy } from '../policy/compute.js';
import type { ExternalWorkloadObject } from '../kube/objects.js';
import type { ExplainFacts } from './facts.js';

export interface GatherOptions {
  namespace: string;
  name: string;
  clusterDefault: DefaultPolicy;
  trustDomain: string;
  now: () => number;
}

type Obj = { metadata: { name?: string; namespace?: string } };

function statusOf(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  return (e as { code?: number; statusCode?: number })?.code ?? (e as { statusCode?: number })?.statusCode;
}

/** group, version, plural of a custom kind, from the paths the destination and policy services watch. */
function gvp(kind: KindName): { group: string; version: string; plural: string } {
  const [, , group, version, plural] = KIND_PATHS[kind].split('/');
  return { group, version, plural };
}

/**
 * Facts about externalworkload NAMESPACE/NAME, or undefined when it does not exist. A kind the API
 * does not serve (404 on the list) counts as empty; any other failure is API_UNREACHABLE.
 */
export async function gatherFacts(kc: KubeConfig, opts: GatherOptions): Promise<ExplainFacts | undefined> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const { namespace, name } = opts;
  const server = kc.getCurrentCluster()?.server ?? 'the API';
  const wrap = async <T>(what: string, p: Promise<T>, onMissing: T): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      if (statusOf(e) === 404) return onMissing;
      throw new OutpostError('API_UNREACHABLE', `could not read ${what} from ${server}: ${(e as Error).message}`, { cause: e });
    }
  };
  const workload = await wrap<ExternalWorkloadObject | undefined>(
    `externalworkload ${namespace}/${name}`,
    custom.getNamespacedCustomObject({ ...gvp('externalworkloads'), namespace, name }) as Promise<ExternalWorkloadObject>,
    undefined,
  );
  if (!workload) return undefined;
  const listCustom = <T>(kind: KindName, ns?: string): Promise<T[]> =>
    wrap(
      kind,
      (ns ? custom.listNamespacedCustomObject({ ...gvp(kind), namespace: ns }) : custom.listClusterCustomObject({ ...gvp(kind) })).then((r) => ((r as { items?: T[] }).items ?? [])),
      [] as T[],
    );
  const items = <T>(p: Promise<{ items: unknown[] }>): Promise<T[]> => p.then((r) => r.items as unknown as T[]);
  const groupName = groupNameOf(workload);
  const [group, serviceAccounts, events, services, endpointSlices, ns, servers, serverAuthorizations, authorizationPolicies, httpRoutes, meshTls, networkAuth, workloads, groups] =
    await Promise.all([
      groupName
        ? wrap<WorkloadGroupLike | undefined>(`workloadgroup ${namespace}/${groupName}`, custom.getNamespacedCustomObject({ ...gvp('workloadgroups'), namespace, name: groupName }) as Promise<WorkloadGroupLike>, undefined)
        : Promise.resolve(undefined),
      wrap('serviceaccounts', items<Obj>(core.listNamespacedServiceAccount({ namespace })), []),
      wrap('events', items<ExplainFacts['events'][number]>(core.listNamespacedEvent({ namespace })), []),
      wrap('services', items<ExplainFacts['services'][number]>(core.listNamespacedService({ namespace })), []),
      wrap('endpointslices', items<ExplainFacts['endpointSlices'][number]>(discovery.listNamespacedEndpointSlice({ namespace })), []),
      wrap('namespace', core.readNamespace({ name: namespace }) as Promise<unknown>, undefined),
      listCustom<ExplainFacts['policy']['servers'][number]>('servers', namespace),
      listCustom<ExplainFacts['policy']['serverAuthorizations'][number]>('serverauthorizations', namespace),
      listCustom<ExplainFacts['policy']['authorizationPolicies'][number]>('authorizationpolicies', namespace),
      listCustom<ExplainFacts['policy']['httpRoutes'][number]>('httproutes', namespace),
      listCustom<ExplainFacts['policy']['meshTlsAuthentications'][number]>('meshtlsauthentications'),
      listCustom<ExplainFacts['policy']['networkAuthentications'][number]>('networkauthentications'),
      listCustom<ExplainFacts['policy']['workloads'][number]>('externalworkloads'),
      listCustom<WorkloadGroupLike>('workloadgroups'),
    ]);
  return {
    now: opts.now(),
    workload,
    group,
    serviceAccounts: serviceAccounts.map((s) => s.metadata.name ?? '').filter(Boolean),
    events,
    services,
    endpointSlices,
    policy: {
      namespace: ns as ExplainFacts['policy']['namespace'],
      servers,
      serverAuthorizations,
      authorizationPolicies,
      httpRoutes,
      meshTlsAuthentications: meshTls,
      networkAuthentications: networkAuth,
      workloads,
      groups,
      clusterDefault: opts.clusterDefault,
      trustDomain: opts.trustDomain,
    },
  };
}
