// core/v1 Endpoints: the legacy address list of a Service (the endpoints controller mirrors the
// ExternalWorkloads a selector Service picks into it). Schema, validation and kubectl's columns.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause } from './types.js';
import { arr, int32, obj, objectReferenceSchema, rootSchema, str } from '../schema/builders.js';
import { child, duplicate, index, invalid, required } from '../../kube/field-errors.js';
import { dns1123Label, dns1123Subdomain, ipFamily } from '../../kube/formats.js';
import { validateObjectMeta, validatePortNumber } from '../schema/meta.js';
import { declareResource, asArray, asRecord, col } from './common.js';
import { hostPort } from '../../core/host-port.js';

const addressSchema = obj({ ip: str(), hostname: str(), nodeName: { ...str(), nullable: true }, targetRef: objectReferenceSchema }, ['ip']);

const endpointsSchema = rootSchema(
  {
    subsets: arr(
      obj({
        addresses: arr(addressSchema),
        notReadyAddresses: arr(addressSchema),
        ports: arr(obj({ name: str(), port: int32(), protocol: str({ enum: ['SCTP', 'TCP', 'UDP'], default: 'TCP' }), appProtocol: { ...str(), nullable: true } }, ['port'])),
      }),
    ),
  },
  undefined,
  'Endpoints is the set of addresses behind a Service (legacy; EndpointSlice is the scalable form).',
);

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

function validateAddress(raw: unknown, path: string): FieldCause[] {
  const a = asRecord(raw);
  const out: FieldCause[] = [];
  if (typeof a.ip === 'string') {
    // Unlike Kubernetes, loopback is allowed: local demos run workloads on 127.0.0.1.
    if (!ipFamily(a.ip)) out.push(invalid(child(path, 'ip'), a.ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    else if (UNSPECIFIED.has(a.ip)) out.push(invalid(child(path, 'ip'), a.ip, 'may not be unspecified (0.0.0.0, ::)'));
  }
  if (typeof a.hostname === 'string' && a.hostname !== '') for (const e of dns1123Label(a.hostname)) out.push(invalid(child(path, 'hostname'), a.hostname, e));
  if (typeof a.nodeName === 'string' && a.nodeName !== '') for (const e of dns1123Subdomain(a.nodeName)) out.push(invalid(child(path, 'nodeName'), a.nodeName, e));
  return out;
}

export function validateEndpoints(o: KubeObject): FieldCause[] {
  const out = validateObjectMeta(o);
  asArray(o.subsets).forEach((rawSubset, i) => {
    const ss = asRecord(rawSubset);
    const p = index('subsets', i);
    const addresses = asArray(ss.addresses);
    const notReady = asArray(ss.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0) out.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    addresses.forEach((a, j) => out.push(...validateAddress(a, index(child(p, 'addresses'), j))));
    notReady.forEach((a, j) => out.push(...validateAddress(a, index(child(p, 'notReadyAddresses'), j))));
    const ports = asArray(ss.ports);
    const names = new Set<string>();
    ports.forEach((rawPort, j) => {
      const port = asRecord(rawPort);
      const pp = index(child(p, 'ports'), j);
      const name = typeof port.name === 'string' ? port.name : '';
      if (name) for (const e of dns1123Label(name)) out.push(invalid(child(pp, 'name'), name, e));
      else if (ports.length > 1) out.push(required(child(pp, 'name'), 'name is required when there is more than one port'));
      if (names.has(name)) out.push(duplicate(child(pp, 'name'), name));
      names.add(name);
      out.push(...validatePortNumber(port.port, child(pp, 'port')));
    });
  });
  return out;
}

/** kubectl's formatEndpoints: `ip:port` for each port of each subset (bare IPs without ports), the first 3, then `+ N more...`. */
export function formatEndpointsColumn(subsets: unknown[]): string {
  if (subsets.length === 0) return '<none>';
  const MAX = 3;
  const shown: string[] = [];
  let count = 0;
  const add = (s: string) => {
    if (shown.length < MAX) shown.push(s);
  };
  for (const rawSubset of subsets) {
    const ss = asRecord(rawSubset);
    const ips = asArray(ss.addresses).map((a) => String(asRecord(a).ip ?? ''));
    const ports = asArray(ss.ports).map(asRecord);
    if (ports.length === 0) {
      count += ips.length;
      ips.forEach(add);
      continue;
    }
    for (const port of ports) {
      count += ips.length;
      for (const ip of ips) add(hostPort(ip, String(port.port)));
    }
  }
  return shown.join(',') + (count > MAX ? ` + ${count - MAX} more...` : '');
}

export const endpointsType = declareResource({
  group: '',
  kind: 'Endpoints',
  plural: 'endpoints',
  shortNames: ['ep'],
  versions: [{ name: 'v1', schema: endpointsSchema, served: true, storage: true }],
  // Strategic merge patch works; `subsets` and its lists have no merge keys upstream (atomic).
  builtin: true,
  validate: validateEndpoints,
  table: {
    columns: [col('Endpoints', { description: 'Endpoints is the list of endpoints in the object.' })],
    cells: (o) => [formatEndpointsColumn(asArray(o.subsets))],
  },
});
