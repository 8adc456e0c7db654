// Lookup tables over the resource descriptors: by URL (group, version, plural), by kind, and the
// storage version of each type. The descriptors themselves live in ../resources/.
import type { ResourceRef } from '../../store/types.js';
import type { ResourceType, ResourceVersionDef } from '../resources/types.js';

export interface ServedResource {
  type: ResourceType;
  version: ResourceVersionDef;
}

export class ResourceIndex {
  private readonly byUrl = new Map<string, ServedResource>();
  private readonly byPlural = new Map<string, ResourceType>();
  private readonly byKind = new Map<string, ResourceType>();

  constructor(readonly types: readonly ResourceType[]) {
    for (const type of types) {
      this.byPlural.set(`${type.group}/${type.plural}`, type);
      this.byKind.set(`${type.group}/${type.kind}`, type);
      for (const version of type.versions) {
        if (version.served) this.byUrl.set(`${type.group}/${version.name}/${type.plural}`, { type, version });
      }
    }
  }

  /** The type served at /apis/{group}/{version}/{plural}, if any. */
  lookup(group: string, version: string, plural: string): ServedResource | undefined {
    return this.byUrl.get(`${group}/${version}/${plural}`);
  }

  byResource(group: string, plural: string): ResourceType | undefined {
    return this.byPlural.get(`${group}/${plural}`);
  }

  /** By group and kind, e.g. for ownerReferences ('' + 'Service'). */
  kind(group: string, kind: string): ResourceType | undefined {
    return this.byKind.get(`${group}/${kind}`);
  }

  /** Group-versions served, for discovery-less checks (e.g. is /apis/g/v known). */
  servesGroupVersion(group: string, version: string): boolean {
    return this.types.some((t) => t.group === group && t.versions.some((v) => v.served && v.name === version));
  }

  stored(): ResourceType[] {
    return this.types.filter((t) => !t.virtual);
  }
}

export function storageVersion(type: ResourceType): string {
  return (type.versions.find((v) => v.storage) ?? type.versions[0]).name;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function refOf(type: ResourceType): ResourceRef {
  return { group: type.group, resource: type.plural };
}

/** Splits "group/version" or "v1" into its parts. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
