// policy.linkerd.io HTTPRoute (v1beta3 stored; v1beta2, v1beta1 and v1alpha1 served, one shape):
// Gateway-API style routes that AuthorizationPolicies and Servers attach to.
import type { KubeObject } from '../../store/types.js';
import type { FieldCause, Schema } from './types.js';
import { arr, int32, obj, preserved, rootSchema, str, targetRefSchema } from '../schema/builders.js';
import { child, index, invalid } from '../../kube/field-errors.js';
import { goDuration } from '../../kube/formats.js';
import { validateObjectMeta } from '../schema/meta.js';
import { declareResource, NONE, asArray, asRecord, col, pick, relabelVersion } from './common.js';
import { POLICY_GROUP } from './policy.js';

const HOSTNAME_PATTERN = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

const nameValueMatch = (types: string[]): Schema =>
  obj({ type: str({ enum: types, default: 'Exact' }), name: str({ minLength: 1, maxLength: 256 }), value: str({ maxLength: 4096 }) }, ['name', 'value']);

const routeMatchSchema = obj({
  path: obj({ type: str({ enum: ['Exact', 'PathPrefix', 'RegularExpression'], default: 'PathPrefix' }), value: str({ maxLength: 1024, default: '/' }) }),
  headers: arr(nameValueMatch(['Exact', 'RegularExpression']), { maxItems: 16 }),
  queryParams: arr(nameValueMatch(['Exact', 'RegularExpression']), { maxItems: 16 }),
  method: str({ enum: METHODS }),
});

const filterSchema = preserved({ properties: { type: str() }, required: ['type'], description: 'A Gateway-API HTTPRouteFilter (RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, …).' });

const httpRouteSchema: Schema = rootSchema(
  {
    spec: obj({
      parentRefs: arr(targetRefSchema(['name']), { maxItems: 32 }),
      hostnames: arr(str({ minLength: 1, maxLength: 253, pattern: HOSTNAME_PATTERN }), { maxItems: 16 }),
      rules: arr(
        obj({
          matches: arr(routeMatchSchema, { maxItems: 8 }),
          filters: arr(filterSchema, { maxItems: 16 }),
          backendRefs: arr(
            obj({
              group: str(),
              kind: str(),
              name: str({ minLength: 1, maxLength: 253 }),
              namespace: str(),
              port: int32({ minimum: 1, maximum: 65535 }),
              weight: int32({ minimum: 0, maximum: 1000000, default: 1 }),
              filters: arr(filterSchema),
            }, ['name']),
          ),
          timeouts: obj({ request: str({ maxLength: 64 }), backendRequest: str({ maxLength: 64 }) }),
        }),
        { maxItems: 16 },
      ),
    }),
    status: obj({ parents: arr(preserved()) }),
  },
  ['spec'],
  'HTTPRoute matches HTTP requests (path, headers, query, method) for policy and routing.',
);

/** A RegularExpression match must compile (the proxy would otherwise never match it). */
function regexCauses(field: string, pattern: string): FieldCause[] {
  try {
    new RegExp(pattern);
    return [];
  } catch (e) {
    return [invalid(field, pattern, `not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`)];
  }
}

function validateHttpRoute(o: KubeObject): FieldCause[] {
  const out = [...validateObjectMeta(o)];
  asArray(pick(o, 'spec.rules')).forEach((raw, i) => {
    const rule = asRecord(raw);
    const rp = index('spec.rules', i);
    asArray(rule.matches).forEach((m, j) => {
      const mp = index(child(rp, 'matches'), j);
      const path = asRecord(asRecord(m).path);
      if (typeof path.value === 'string' && path.type !== 'RegularExpression' && !path.value.startsWith('/')) {
        out.push(invalid(child(mp, 'path.value'), path.value, 'must be an absolute path starting with "/"'));
      }
      if (typeof path.value === 'string' && path.type === 'RegularExpression') out.push(...regexCauses(child(mp, 'path.value'), path.value));
      for (const list of ['headers', 'queryParams']) {
        asArray(asRecord(m)[list]).forEach((raw, k) => {
          const v = asRecord(raw);
          if (v.type === 'RegularExpression' && typeof v.value === 'string') out.push(...regexCauses(child(index(child(mp, list), k), 'value'), v.value));
        });
      }
    });
    const timeouts = asRecord(rule.timeouts);
    for (const k of ['request', 'backendRequest']) {
      const v = timeouts[k];
      if (typeof v === 'string') for (const e of goDuration(v)) out.push(invalid(child(child(rp, 'timeouts'), k), v, e));
    }
  });
  return out;
}

export const httpRouteType = declareResource({
  group: POLICY_GROUP,
  kind: 'HTTPRoute',
  categories: ['policy'],
  versions: ['v1beta3', 'v1beta2', 'v1beta1', 'v1alpha1'].map((name) => ({ name, schema: httpRouteSchema, served: true, storage: name === 'v1beta3' })),
  statusSubresource: true,
  builtin: false,
  convert: relabelVersion(POLICY_GROUP),
  validate: validateHttpRoute,
  table: {
    columns: [col('Hostnames'), col('Parents', { priority: 1 })],
    cells: (o) => [
      asArray(pick(o, 'spec.hostnames')).join(',') || NONE,
      asArray(pick(o, 'spec.parentRefs')).map((p) => `${asRecord(p).kind ?? 'Server'}/${asRecord(p).name}`).join(',') || NONE,
    ],
  },
});
