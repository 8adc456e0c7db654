// Pure comparison for the conformance test: replies reduced to the fields a client relies on
// (status code, Status reason and details, kinds, names, event types), the differences between
// what the embedded API and a real kube-apiserver answered, and the differences known and
// documented in docs/kubernetes.md ("Differences from kube-apiserver").

/** What a client reads from a reply that is (or may be) a Status. */
export interface StatusView {
  code: number;
  kind?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { field?: string; reason?: string }[] };
}

/** Code, kind, reason and details of a reply; causes as field + reason, sorted (order is not a contract). */
export function statusView(code: number, body: any): StatusView {
  const view: StatusView = { code };
  if (body && typeof body === 'object' && typeof body.kind === 'string') view.kind = body.kind;
  if (view.kind !== 'Status') return view;
  view.reason = body.reason;
  const d = body.details;
  if (d && typeof d === 'object') {
    view.details = {};
    for (const k of ['name', 'group', 'kind'] as const) if (d[k] !== undefined && d[k] !== '') view.details[k] = d[k];
    if (Array.isArray(d.causes)) {
      view.details.causes = d.causes
        // Go omits an empty field: "" and absent are the same to a client.
        .map((c: any) => ({ field: c.field || undefined, reason: c.reason }))
        .sort((a: any, b: any) => `${a.field} ${a.reason}`.localeCompare(`${b.field} ${b.reason}`));
    }
  }
  return view;
}

export interface Difference {
  path: string;
  embedded: unknown;
  kube: unknown;
}

/** Every leaf where the two observations differ, with its path (`details.causes[0].field`). */
export function differences(embedded: unknown, kube: unknown, path = ''): Difference[] {
  if (Object.is(embedded, kube)) return [];
  const bothObjects = embedded !== null && kube !== null && typeof embedded === 'object' && typeof kube === 'object';
  if (!bothObjects || Array.isArray(embedded) !== Array.isArray(kube)) return [{ path: path || '(root)', embedded, kube }];
  if (Array.isArray(embedded) && Array.isArray(kube)) {
    const out: Difference[] = [];
    for (let i = 0; i < Math.max(embedded.length, kube.length); i++) out.push(...differences(embedded[i], kube[i], `${path}[${i}]`));
    return out;
  }
  const a = embedded as Record<string, unknown>;
  const b = kube as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k));
}

export function describeDifferences(step: string, diffs: Difference[]): string {
  const lines = diffs.map((d) => `  ${d.path}: embedded ${JSON.stringify(d.embedded)}, kube-apiserver ${JSON.stringify(d.kube)}`);
  return `${step}: the embedded API differs from kube-apiserver\n${lines.join('\n')}`;
}

/**
 * A difference kept on purpose: the step it shows in, the paths that differ, and the heading of
 * docs/kubernetes.md that explains why. The test fails if such a difference disappears (so the
 * doc stays true) or if any other path differs.
 */
export interface KnownDifference {
  step: string;
  paths: string[];
  doc: string;
}

export const KNOWN_DIFFERENCES: KnownDifference[] = [
  { step: 'JSON patch: add, replace, remove; a failed test op and a missing path', paths: ['failedTest.details', 'missing.details'], doc: 'A failed JSON patch names the operation' },
  { step: 'ExternalWorkload: 422 for a port out of range, a bad IP, a missing meshTLS identity', paths: ['identity.celSkipped'], doc: 'No marker cause for skipped CEL rules' },
  { step: 'kubectl explain: ConfigMap and Service fields', paths: ['namespaceSpec.header[2]', 'servicePorts.header[2]'], doc: 'kubectl explain shows Object for nested types' },
];

/** Differences of `step` that are not known ones, and known paths that no longer differ. */
export function unexplained(step: string, diffs: Difference[], known: KnownDifference[] = KNOWN_DIFFERENCES): { unknown: Difference[]; stale: string[] } {
  const allowed = known.filter((k) => k.step === step).flatMap((k) => k.paths);
  const unknown = diffs.filter((d) => !allowed.some((p) => d.path === p || d.path.startsWith(`${p}.`) || d.path.startsWith(`${p}[`)));
  const stale = allowed.filter((p) => !diffs.some((d) => d.path === p || d.path.startsWith(`${p}.`) || d.path.startsWith(`${p}[`)));
  return { unknown, stale };
}
