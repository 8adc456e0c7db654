// Opaque ports (config.linkerd.io/opaque-ports on a workload, its group or a Service): traffic the
// proxies forward as raw TCP, without protocol detection. Pure; read by destination, policy and viz.

export const OPAQUE_PORTS_ANNOTATION = 'config.linkerd.io/opaque-ports';

/** Parses "5432,6379" or "4000-4100" style opaque-port annotations. */
export function parsePortList(value: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const lo = Number(range[1]);
      const hi = Math.min(Number(range[2]), lo + 65535);
      for (let p = lo; p <= hi && p <= 65535; p++) out.add(p);
    } else if (/^\d+$/.test(part)) out.add(Number(part));
  }
  return out;
}
