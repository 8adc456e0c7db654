// Semantic checks shared by many kinds: object metadata (name formats, labels, annotations), port
// lists and references (label selectors: kube/selectors.ts). Each returns FieldCause[] with full field paths.
import type { FieldCause } from '../resources/types.js';
import type { KubeObject } from '../../store/types.js';
import { validateLabels } from '../../kube/selectors.js';
import { child, duplicate, index, invalid, required, tooLong } from '../../kube/field-errors.js';
import { dns1035Label, dns1123Label, dns1123Subdomain, ianaSvcName, qualifiedName } from '../../kube/formats.js';

export type NameFormat = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

const NAME_CHECKS: Record<NameFormat, (v: string) => string[]> = {
  'dns1123-subdomain': dns1123Subdomain,
  'dns1123-label': dns1123Label,
  'dns1035-label': dns1035Label,
};

const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** metadata.name (or generateName), labels, annotations, finalizers and ownerReferences. */
export function validateObjectMeta(obj: KubeObject, nameFormat: NameFormat = 'dns1123-subdomain'): FieldCause[] {
  const out: FieldCause[] = [];
  const meta = obj.metadata ?? {};
  const check = NAME_CHECKS[nameFormat];
  if (typeof meta.name === 'string' && meta.name !== '') {
    for (const e of check(meta.name)) out.push(invalid('metadata.name', meta.name, e));
  } else if (typeof meta.generateName === 'string' && meta.generateName !== '') {
    // generateName gets 5 characters appended, so only its prefix shape is checked.
    const probe = meta.generateName.replace(/-+$/, '') + (meta.generateName.endsWith('-') ? '-a' : 'a');
    for (const e of check(probe)) out.push(invalid('metadata.generateName', meta.generateName, e));
  } else {
    out.push(required('metadata.name', 'name or generateName is required'));
  }
  out.push(...validateLabels(meta.labels, 'metadata.labels'));
  out.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  (meta.finalizers ?? []).forEach((f, i) => {
    for (const e of qualifiedName(f)) out.push(invalid(index('metadata.finalizers', i), f, e));
  });
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    const p = index('metadata.ownerReferences', i);
    if (!ref.uid) out.push(required(child(p, 'uid')));
    if (!ref.name) out.push(required(child(p, 'name')));
  });
  if ((meta.ownerReferences ?? []).filter((r) => r.controller).length > 1) {
    out.push(invalid('metadata.ownerReferences', meta.ownerReferences, 'Only one reference can have Controller set to true'));
  }
  return out;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldCause[] {
  const out: FieldCause[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const e of qualifiedName(k.toLowerCase())) out.push(invalid(path, k, e));
    size += k.length + String(v).length;
  }
  if (size > MAX_ANNOTATIONS_BYTES) out.push(tooLong(path, MAX_ANNOTATIONS_BYTES));
  return out;
}

export function validatePortNumber(port: unknown, path: string): FieldCause[] {
  if (typeof port !== 'number' || !Number.isInteger(port)) return [];
  return port < 1 || port > 65535 ? [invalid(path, port, 'must be between 1 and 65535, inclusive')] : [];
}

/** A port given by number (1-65535) or by IANA_SVC_NAME, like a Service targetPort or a Server port. */
export function validatePortNumberOrName(port: unknown, path: string): FieldCause[] {
  if (typeof port === 'number') return validatePortNumber(port, path);
  if (typeof port === 'string') {
    if (/^[0-9]+$/.test(port)) return validatePortNumber(Number(port), path);
    return ianaSvcName(port).map((e) => invalid(path, port, e));
  }
  return [];
}

interface NamedPort {
  name?: string;
  port?: number;
  protocol?: string;
}

/**
 * A list of named ports: names IANA_SVC_NAME (or DNS label for Services) and unique; no duplicate
 * port+protocol; names required when there are several (`requireNamesWhenMany`, as Services do).
 */
export function validatePortList(
  ports: NamedPort[] | undefined,
  path: string,
  opts: { nameFormat?: 'iana' | 'dns1123-label'; requireNamesWhenMany?: boolean } = {},
): FieldCause[] {
  const out: FieldCause[] = [];
  if (!Array.isArray(ports)) return out;
  const names = new Set<string>();
  const numbers = new Set<string>();
  ports.forEach((p, i) => {
    if (!p || typeof p !== 'object') return;
    const pp = index(path, i);
    if (typeof p.name === 'string' && p.name !== '') {
      const errs = opts.nameFormat === 'dns1123-label' ? dns1123Label(p.name) : ianaSvcName(p.name);
      for (const e of errs) out.push(invalid(child(pp, 'name'), p.name, e));
      if (names.has(p.name)) out.push(duplicate(child(pp, 'name'), p.name));
      names.add(p.name);
    } else if (opts.requireNamesWhenMany && ports.length > 1) {
      out.push(required(child(pp, 'name')));
    }
    // Port ranges and protocol enums are the schema's job (minimum/maximum, enum): not repeated here.
    if (typeof p.port === 'number') {
      const id = `${p.port}/${p.protocol ?? 'TCP'}`;
      if (numbers.has(id)) out.push(duplicate(pp, { port: p.port, protocol: p.protocol ?? 'TCP' }));
      numbers.add(id);
    }
  });
  return out;
}
