// `outpost uninject`: removes what injection added to a pod template (the proxy, outpost-init, their
// volumes, the injected annotations and labels) and the inject annotation itself. Pure.
import { INJECT_ANNOTATIONS } from './annotations.js';
import { IDENTITY_DIR_VOLUME, INIT_CONTAINER, INJECTED_ANNOTATIONS, INJECTED_LABELS, PROXY_CONTAINER, TOKEN_VOLUME, type PodTemplate } from './pod.js';

const OUR_CONTAINERS = new Set([PROXY_CONTAINER, INIT_CONTAINER]);
const OUR_VOLUMES = new Set([TOKEN_VOLUME, IDENTITY_DIR_VOLUME]);

/** The template without Outpost's additions, and whether anything was removed. */
export function uninjectPodTemplate(template: PodTemplate): { template: PodTemplate; changed: boolean } {
  let changed = false;
  const without = <T extends Record<string, unknown>>(list: T[] | undefined, keep: (x: T) => boolean): T[] | undefined => {
    if (!list) return list;
    const kept = list.filter(keep);
    if (kept.length !== list.length) changed = true;
    return kept;
  };
  const omit = (m: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> | undefined => {
    if (!m) return m;
    const out = Object.fromEntries(Object.entries(m).filter(([k]) => !keys.includes(k)));
    if (Object.keys(out).length !== Object.keys(m).length) changed = true;
    return out;
  };
  const spec = template.spec ? { ...template.spec } : undefined;
  if (spec) {
    spec.initContainers = without(spec.initContainers, (c) => !OUR_CONTAINERS.has(c.name));
    spec.containers = without(spec.containers, (c) => !OUR_CONTAINERS.has(c.name));
    spec.volumes = without(spec.volumes, (v) => !OUR_VOLUMES.has(String(v.name)));
    if (spec.initContainers?.length === 0) delete spec.initContainers;
    if (spec.volumes?.length === 0) delete spec.volumes;
  }
  const metadata = template.metadata ? { ...template.metadata } : undefined;
  if (metadata) {
    metadata.annotations = omit(metadata.annotations, [...INJECTED_ANNOTATIONS, ...INJECT_ANNOTATIONS]);
    metadata.labels = omit(metadata.labels, INJECTED_LABELS);
    if (metadata.annotations && Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
    if (metadata.labels && Object.keys(metadata.labels).length === 0) delete metadata.labels;
  }
  return { template: { ...template, ...(metadata ? { metadata } : {}), ...(spec ? { spec } : {}) }, changed };
}
