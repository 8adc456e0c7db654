// CustomResourceDefinitions for every kind the embedded API serves under workload.linkerd.io and
// policy.linkerd.io, generated from its descriptors (src/apiserver/resources): names, short names,
// categories, versions, storage version, status subresource, printer columns, and each version's
// schema (crd-schema.ts) with the CEL rules of cel-rules.ts.
import { RESOURCE_TYPES } from '../apiserver/resources/index.js';
import type { ResourceType } from '../apiserver/resources/types.js';
import { crdSchemaOf } from './crd-schema.js';
import { rulesFor } from './cel-rules.js';
import { printerColumns } from './printer-columns.js';
import { INSTALL_LABELS } from './labels.js';

export const CRD_GROUPS = ['workload.linkerd.io', 'policy.linkerd.io'];

/**
 * Versions whose shape differs from the storage version in a way only a conversion webhook can
 * translate (v1alpha1 ExternalWorkloads spell spec.meshTls). With the `None` strategy the API
 * server would store meshTls unconverted and prune it, so the version is listed but not served.
 */
export const UNSERVED_WITHOUT_WEBHOOK: Record<string, string[]> = { ExternalWorkload: ['v1alpha1'] };

export function crdTypes(types: ResourceType[] = RESOURCE_TYPES): ResourceType[] {
  return types.filter((t) => CRD_GROUPS.includes(t.group));
}

export function renderCrd(rt: ResourceType): Record<string, unknown> {
  const unserved = UNSERVED_WITHOUT_WEBHOOK[rt.kind] ?? [];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${rt.plural}.${rt.group}`, labels: { ...INSTALL_LABELS } },
    spec: {
      group: rt.group,
      names: {
        kind: rt.kind,
        listKind: rt.listKind,
        plural: rt.plural,
        singular: rt.singular,
        ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
        ...(rt.categories?.length ? { categories: rt.categories } : {}),
      },
      scope: rt.namespaced ? 'Namespaced' : 'Cluster',
      conversion: { strategy: 'None' },
      versions: rt.versions.map((v) => ({
        name: v.name,
        served: v.served && !unserved.includes(v.name),
        storage: v.storage,
        schema: { openAPIV3Schema: crdSchemaOf(v.schema, rulesFor(rt.kind, v.name)) },
        ...(rt.statusSubresource ? { subresources: { status: {} } } : {}),
        additionalPrinterColumns: printerColumns(rt, v.name),
      })),
    },
  };
}

export function renderCrds(types?: ResourceType[]): Record<string, unknown>[] {
  return crdTypes(types).map(renderCrd);
}
