// `outpost workload onboard --upstream SERVICE.NS:PORT[=LISTEN]`, pure: a Service the VM's app calls
// through a local listener (default 127.0.0.1:PORT), written to proxy-config.yaml's `upstreams`.
import { OutpostError } from '../core/errors.js';
import type { UpstreamListener } from './bundle.js';

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const port = (s: string) => (/^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined);

export function parseUpstreamFlag(value: string, clusterDomain = 'cluster.local'): UpstreamListener {
  const bad = (why: string) => new OutpostError('INVALID_ARGUMENT', `--upstream: "${value}" ${why} (expected SERVICE.NAMESPACE:PORT[=LISTEN], e.g. postgres.hybrid-app:5432 or redis.caching:6379=127.0.0.1:16379)`, { field: 'upstream' });
  const [target, listen, ...extra] = value.trim().split('=');
  if (extra.length) throw bad('has more than one "="');
  const m = /^([^:]+):([^:]+)$/.exec(target);
  if (!m) throw bad('has no :PORT');
  const servicePort = port(m[2]);
  if (servicePort === undefined) throw bad(`has port "${m[2]}", not 1-65535`);
  const suffix = `.svc.${clusterDomain}`;
  const labels = m[1].toLowerCase().replace(suffix, '').replace(/\.svc$/, '').split('.');
  if (labels.length !== 2 || !labels.every((l) => LABEL.test(l))) throw bad(`does not name a Service as SERVICE.NAMESPACE`);
  let listenAt = `127.0.0.1:${servicePort}`;
  if (listen !== undefined) {
    const lm = /^(?:(\[[^\]]+\]|[^:]+):)?([^:]+)$/.exec(listen);
    const lp = lm ? port(lm[2]) : undefined;
    if (!lm || lp === undefined) throw bad(`listens at "${listen}", not PORT or HOST:PORT`);
    listenAt = `${lm[1] ?? '127.0.0.1'}:${lp}`;
  }
  return { service: `${labels[0]}.${labels[1]}${suffix}`, port: servicePort, listen: listenAt };
}

/** Refuses two upstreams on one local address (the proxy could not start). */
export function checkUpstreamListeners(list: UpstreamListener[]): void {
  const seen = new Map<string, string>();
  for (const u of list) {
    const other = seen.get(u.listen);
    if (other) throw new OutpostError('INVALID_ARGUMENT', `--upstream: ${u.service}:${u.port} and ${other} would both listen at ${u.listen}; give one another address (=LISTEN)`, { field: 'upstream' });
    seen.set(u.listen, `${u.service}:${u.port}`);
  }
}
