// discovery.k8s.io/v1 EndpointSlice: the addresses behind a Service (written by the endpoints
// controller for ExternalWorkloads). Columns follow kubectl's printer.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause } from './types.js';
import { arr, bool, int32, obj, objectReferenceSchema, preserved, rootSchema, str, stringMap, strings } from '../schema/builders.js';
import { child, duplicate, index, invalid } from '../../kube/field-errors.js';
import { dns1123Label, dns1123Subdomain, ipFamily } from '../../kube/formats.js';
import { validateObjectMeta, validatePortNumber } from '../schema/meta.js';
import { declareResource, asArray, asRecord, col } from './common.js';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

const endpointSliceSchema = rootSchema(
  {
    addressType: str({ enum: ADDRESS_TYPES }),
    endpoints: arr(
      obj(
        {
          addresses: strings({ minItems: 1, maxItems: 100 }),
          conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
          hostname: str(),
          targetRef: objectReferenceSchema,
          nodeName: str(),
          zone: str(),
          hints: preserved(),
          deprecatedTopology: stringMap(),
        },
        ['addresses'],
      ),
      { maxItems: 1000 },
    ),
    ports: arr(obj({ name: str(), protocol: str({ enum: ['SCTP', 'TCP', 'UDP'], default: 'TCP' }), port: { ...int32(), nullable: true }, appProtocol: str() }), { maxItems: 100 }),
  },
  ['addressType', 'endpoints'],
  'EndpointSlice lists network endpoints (addresses, readiness, ports) of a Service.',
);

function validateEndpointSlice(o: KubeObject): FieldCause[] {
  const out = validateObjectMeta(o);
  const type = o.addressType;
  asArray(o.endpoints).forEach((raw, i) => {
    const ep = asRecord(raw);
    const p = index('endpoints', i);
    asArray(ep.addresses).forEach((addr, j) => {
      if (typeof addr !== 'string') return;
      const field = index(child(p, 'addresses'), j);
      if (type === 'IPv4' && ipFamily(addr) !== 4) out.push(invalid(field, addr, 'must be a valid IPv4 address'));
      else if (type === 'IPv6' && ipFamily(addr) !== 6) out.push(invalid(field, addr, 'must be a valid IPv6 address'));
      else if (type === 'FQDN') for (const e of dns1123Subdomain(addr)) out.push(invalid(field, addr, e));
    });
    if (typeof ep.hostname === 'string') for (const e of dns1123Label(ep.hostname)) out.push(invalid(child(p, 'hostname'), ep.hostname, e));
  });
  const names = new Set<string>();
  asArray(o.ports).forEach((raw, i) => {
    const port = asRecord(raw);
    const p = index('ports', i);
    const name = typeof port.name === 'string' ? port.name : '';
    if (name) for (const e of dns1123Label(name)) out.push(invalid(child(p, 'name'), name, e));
    if (names.has(name)) out.push(duplicate(child(p, 'name'), name));
    names.add(name);
    out.push(...validatePortNumber(port.port, child(p, 'port')));
  });
  return out;
}

/** kubectl's formatDiscoveryPorts: port numbers, at most 3, then `+ N more...`. */
function formatPorts(ports: unknown[]): string {
  if (!ports.length) return '<unset>';
  const shown = ports.slice(0, 3).map((p) => (typeof asRecord(p).port === 'number' ? String(asRecord(p).port) : '<unset>'));
  return shown.join(',') + (ports.length > 3 ? ` + ${ports.length - 3} more...` : '');
}

/** kubectl's formatEndpointSlice: the first 3 addresses, then `+ N more...`. */
export function formatEndpoints(endpoints: unknown[]): string {
  const addresses = endpoints.flatMap((e) => asArray(asRecord(e).addresses).map(String));
  if (!addresses.length) return '<unset>';
  return addresses.slice(0, 3).join(',') + (addresses.length > 3 ? ` + ${addresses.length - 3} more...` : '');
}

export const endpointSliceType = declareResource({
  group: 'discovery.k8s.io',
  kind: 'EndpointSlice',
  versions: [{ name: 'v1', schema: endpointSliceSchema, served: true, storage: true }],
  builtin: true,
  validate: validateEndpointSlice,
  table: {
    columns: [
      col('AddressType', { description: 'IPv4, IPv6 or FQDN.' }),
      col('Ports', { description: 'Port numbers of the slice.' }),
      col('Endpoints', { description: 'Addresses of the endpoints.' }),
    ],
    cells: (o) => [o.addressType ?? '', formatPorts(asArray(o.ports)), formatEndpoints(asArray(o.endpoints))],
  },
});
