// The JSON Patch (RFC 6902) an admission response carries: one add/replace/remove per changed
// field directly under metadata and spec, which is all the pod mutation changes. Pure.

export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

/** RFC 6901: "~" and "/" in a key are escaped. */
const pointer = (...parts: string[]) => '/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export function diffPod(before: Record<string, unknown>, after: Record<string, unknown>): PatchOp[] {
  const ops: PatchOp[] = [];
  for (const section of ['metadata', 'spec']) {
    const was = (before[section] ?? {}) as Record<string, unknown>;
    const now = (after[section] ?? {}) as Record<string, unknown>;
    if (before[section] === undefined && after[section] !== undefined) {
      ops.push({ op: 'add', path: pointer(section), value: now });
      continue;
    }
    for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) {
      if (JSON.stringify(was[key]) === JSON.stringify(now[key])) continue;
      if (now[key] === undefined) ops.push({ op: 'remove', path: pointer(section, key) });
      else ops.push({ op: key in was ? 'replace' : 'add', path: pointer(section, key), value: now[key] });
    }
  }
  return ops;
}
