// Parses what a proxy asks the destination service for: a service authority
// ("name.ns.svc.cluster.local:port", "name.ns.svc:port", "name.ns:port") or an address ("ip:port").
import { isIP } from 'node:net';

export type ParsedAuthority =
  | { kind: 'service'; namespace: string; name: string; port: number }
  | { kind: 'address'; address: string; port: number }
  | { kind: 'invalid'; reason: string };

export const CLUSTER_DOMAIN = 'cluster.local';

export function parseAuthority(path: string, clusterDomain = CLUSTER_DOMAIN): ParsedAuthority {
  const m = /^(.*):(\d{1,5})$/.exec(path.trim());
  if (!m) return { kind: 'invalid', reason: `"${path}" has no port (expected name.namespace:port or ip:port)` };
  const host = m[1].replace(/^\[(.*)\]$/, '$1');
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return { kind: 'invalid', reason: `port ${port} is out of range` };
  if (isIP(host)) return { kind: 'address', address: host, port };
  const labels = host.replace(/\.$/, '').toLowerCase().split('.');
  const suffix = ['svc', ...clusterDomain.split('.')];
  let rest = labels;
  if (labels.length === 2 + suffix.length && labels.slice(2).join('.') === suffix.join('.')) rest = labels.slice(0, 2);
  else if (labels.length === 3 && labels[2] === 'svc') rest = labels.slice(0, 2);
  if (rest.length !== 2 || rest.some((l) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(l))) {
    return { kind: 'invalid', reason: `"${host}" is not a service name (expected name.namespace[.svc[.${clusterDomain}]])` };
  }
  return { kind: 'service', name: rest[0], namespace: rest[1], port };
}

export function serviceFqdn(name: string, namespace: string, clusterDomain = CLUSTER_DOMAIN): string {
  return `${name}.${namespace}.svc.${clusterDomain}`;
}
