// Decodes the Kubernetes protobuf envelope ("k8s\0" + runtime.Unknown, wire spec §6.4) that kubectl
// >= 1.32 POSTs for its typed `create` commands (namespace, serviceaccount, token, configmap, secret,
// service, deployment), into the equivalent JSON object. Field numbers: k8s.io/api generated.proto.
import type { KubeObject } from '../store/types.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** reason BadRequest (400): malformed bytes; UnsupportedMediaType (415): a kind this decoder does not know. */
export class ProtobufDecodeError extends Error {
  constructor(
    readonly reason: 'BadRequest' | 'UnsupportedMediaType',
    message: string,
  ) {
    super(message);
    this.name = 'ProtobufDecodeError';
  }
}

export function isKubernetesProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

type Field = { n: number; v: number | Uint8Array };
type Obj = Record<string, unknown>;

/** Reads the fields of one protobuf message (varint and length-delimited; fixed32/64 are skipped). */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= buf.length || shift > 63) throw new ProtobufDecodeError('BadRequest', 'protobuf: truncated varint');
      const b = buf[pos++];
      result += (b & 0x7f) * 2 ** shift; // arithmetic, not bit ops: int64 values above 2^31
      if (b < 0x80) return result;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const n = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) out.push({ n, v: varint() });
    else if (wire === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new ProtobufDecodeError('BadRequest', 'protobuf: truncated field');
      out.push({ n, v: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1 || wire === 5) pos += wire === 1 ? 8 : 4;
    else throw new ProtobufDecodeError('BadRequest', `protobuf: unsupported wire type ${wire}`);
  }
  if (pos > buf.length) throw new ProtobufDecodeError('BadRequest', 'protobuf: truncated field');
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const str = (v: Field['v']) => (typeof v === 'number' ? String(v) : utf8.decode(v));
const msg = (v: Field['v']) => (typeof v === 'number' ? new Uint8Array() : v);

/**
 * Decodes a message by a table of field number -> [JSON name, kind]; "" strings, 0 and empty messages
 * count as unset, except `int0` (an optional pointer field such as replicas, where 0 was meant);
 * `bool` is a pointer (false kept), `true` a plain bool proto2 always sends (only true kept).
 * `bytesMap` is map<string, bytes> (base64 in JSON); `intOrString` is intstr.IntOrString.
 */
type Kind =
  | 'string' | 'int' | 'int0' | 'bool' | 'true' | 'strings' | 'map' | 'bytesMap' | 'time' | 'intOrString'
  | ((b: Uint8Array) => Obj) | [(b: Uint8Array) => Obj];
function decode(buf: Uint8Array, table: Record<number, [string, Kind]>): Obj {
  const o: Obj = {};
  for (const f of fields(buf)) {
    const spec = table[f.n];
    if (!spec) continue;
    const [name, kind] = spec;
    if (kind === 'string') {
      if (str(f.v) !== '') o[name] = str(f.v);
    } else if (kind === 'int') {
      if (typeof f.v === 'number' && f.v !== 0) o[name] = f.v;
    } else if (kind === 'int0') {
      if (typeof f.v === 'number') o[name] = f.v;
    } else if (kind === 'bool') {
      if (typeof f.v === 'number') o[name] = f.v !== 0;
    } else if (kind === 'true') {
      if (typeof f.v === 'number' && f.v !== 0) o[name] = true;
    } else if (kind === 'strings') {
      ((o[name] ??= []) as string[]).push(str(f.v));
    } else if (kind === 'map') {
      const e = decode(msg(f.v), { 1: ['key', 'string'], 2: ['value', 'string'] });
      ((o[name] ??= {}) as Obj)[String(e.key ?? '')] = e.value ?? '';
    } else if (kind === 'bytesMap') {
      const e = decode(msg(f.v), { 1: ['key', 'string'], 2: ['value', (b) => ({ b64: Buffer.from(b).toString('base64') })] });
      ((o[name] ??= {}) as Obj)[String(e.key ?? '')] = (e.value as { b64?: string } | undefined)?.b64 ?? '';
    } else if (kind === 'intOrString') {
      const v = decode(msg(f.v), { 1: ['type', 'int'], 2: ['intVal', 'int0'], 3: ['strVal', 'string'] });
      o[name] = v.type === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
    } else if (kind === 'time') {
      const t = decode(msg(f.v), { 1: ['seconds', 'int'] });
      if (typeof t.seconds === 'number') o[name] = new Date(t.seconds * 1000).toISOString().replace('.000Z', 'Z');
    } else if (Array.isArray(kind)) {
      ((o[name] ??= []) as Obj[]).push(kind[0](msg(f.v)));
    } else {
      const sub = kind(msg(f.v));
      if (Object.keys(sub).length > 0) o[name] = sub;
    }
  }
  return o;
}

const ownerReference = (b: Uint8Array) =>
  decode(b, { 1: ['kind', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] });
const objectMeta = (b: Uint8Array) =>
  decode(b, {
    1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 5: ['uid', 'string'],
    6: ['resourceVersion', 'string'], 7: ['generation', 'int'], 8: ['creationTimestamp', 'time'], 9: ['deletionTimestamp', 'time'],
    10: ['deletionGracePeriodSeconds', 'int'], 11: ['labels', 'map'], 12: ['annotations', 'map'],
    13: ['ownerReferences', [ownerReference]], 14: ['finalizers', 'strings'],
  });
const objectReference = (b: Uint8Array) =>
  decode(b, { 1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['resourceVersion', 'string'], 7: ['fieldPath', 'string'] });

const labelSelector = (b: Uint8Array) =>
  decode(b, { 1: ['matchLabels', 'map'], 2: ['matchExpressions', [(e) => decode(e, { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', 'strings'] })]] });
const quantityMap = (b: Uint8Array): Obj => {
  const e = decode(b, { 1: ['key', 'string'], 2: ['value', (q) => decode(q, { 1: ['string', 'string'] })] });
  return { [String(e.key ?? '')]: (e.value as { string?: string } | undefined)?.string ?? '' };
};
const resources = (b: Uint8Array): Obj => {
  const o: Obj = {};
  for (const f of fields(b)) {
    const name = f.n === 1 ? 'limits' : f.n === 2 ? 'requests' : undefined;
    if (name) o[name] = { ...((o[name] as Obj | undefined) ?? {}), ...quantityMap(msg(f.v)) };
  }
  return o;
};
/** core/v1 Container: the fields `kubectl create deployment` sets, and common ones (env, resources). */
const container = (b: Uint8Array) =>
  decode(b, {
    1: ['name', 'string'], 2: ['image', 'string'], 3: ['command', 'strings'], 4: ['args', 'strings'], 5: ['workingDir', 'string'],
    6: ['ports', [(p) => decode(p, { 1: ['name', 'string'], 2: ['hostPort', 'int'], 3: ['containerPort', 'int'], 4: ['protocol', 'string'], 5: ['hostIP', 'string'] })]],
    7: ['env', [(e) => decode(e, { 1: ['name', 'string'], 2: ['value', 'string'] })]],
    8: ['resources', resources], 13: ['terminationMessagePath', 'string'], 14: ['imagePullPolicy', 'string'], 20: ['terminationMessagePolicy', 'string'],
  });
const withEmpty = (name: string, decodeFn: (b: Uint8Array) => Obj) => (b: Uint8Array): Obj => {
  const o = decodeFn(b);
  // A container's `resources: {}` is what kubectl's JSON body carries too.
  for (const c of (o[name] as Obj[] | undefined) ?? []) c.resources ??= {};
  return o;
};
const podSpec = withEmpty('containers', (b: Uint8Array) =>
  decode(b, {
    2: ['containers', [container]], 20: ['initContainers', [container]], 3: ['restartPolicy', 'string'], 4: ['terminationGracePeriodSeconds', 'int0'],
    6: ['dnsPolicy', 'string'], 7: ['nodeSelector', 'map'], 8: ['serviceAccountName', 'string'], 19: ['schedulerName', 'string'],
  }));
const servicePort = (b: Uint8Array) =>
  decode(b, { 1: ['name', 'string'], 2: ['protocol', 'string'], 3: ['port', 'int'], 4: ['targetPort', 'intOrString'], 5: ['nodePort', 'int'], 6: ['appProtocol', 'string'] });
const serviceSpec = (b: Uint8Array) =>
  decode(b, {
    1: ['ports', [servicePort]], 2: ['selector', 'map'], 3: ['clusterIP', 'string'], 18: ['clusterIPs', 'strings'], 4: ['type', 'string'],
    5: ['externalIPs', 'strings'], 7: ['sessionAffinity', 'string'], 8: ['loadBalancerIP', 'string'], 9: ['loadBalancerSourceRanges', 'strings'],
    10: ['externalName', 'string'], 11: ['externalTrafficPolicy', 'string'], 12: ['healthCheckNodePort', 'int'], 19: ['ipFamilies', 'strings'],
    17: ['ipFamilyPolicy', 'string'], 21: ['loadBalancerClass', 'string'], 22: ['internalTrafficPolicy', 'string'], 23: ['trafficDistribution', 'string'],
    13: ['publishNotReadyAddresses', 'true'], 20: ['allocateLoadBalancerNodePorts', 'bool'],
  });
const deploymentSpec = (b: Uint8Array) =>
  decode(b, {
    1: ['replicas', 'int0'], 2: ['selector', labelSelector],
    3: ['template', (t) => decode(t, { 1: ['metadata', objectMeta], 2: ['spec', podSpec] })],
    4: ['strategy', (s) => decode(s, { 1: ['type', 'string'] })], 5: ['minReadySeconds', 'int'], 6: ['revisionHistoryLimit', 'int0'],
    7: ['paused', 'true'], 9: ['progressDeadlineSeconds', 'int0'],
  });

/** Per kind: the object's fields, and which top-level messages stay even when empty (spec: {}). */
const KINDS: Record<string, { table: Record<number, [string, Kind]>; keep: string[] }> = {
  Namespace: {
    table: { 1: ['metadata', objectMeta], 2: ['spec', (b) => decode(b, { 1: ['finalizers', 'strings'] })], 3: ['status', (b) => decode(b, { 1: ['phase', 'string'] })] },
    keep: ['spec'],
  },
  ServiceAccount: {
    table: {
      1: ['metadata', objectMeta], 2: ['secrets', [objectReference]], 3: ['automountServiceAccountToken', 'bool'],
      4: ['imagePullSecrets', [(b) => decode(b, { 1: ['name', 'string'] })]],
    },
    keep: [],
  },
  TokenRequest: {
    table: {
      1: ['metadata', objectMeta],
      2: ['spec', (b) => decode(b, {
        1: ['audiences', 'strings'], 4: ['expirationSeconds', 'int'],
        3: ['boundObjectRef', (r) => decode(r, { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] })],
      })],
      3: ['status', (b) => decode(b, { 1: ['token', 'string'], 2: ['expirationTimestamp', 'time'] })],
    },
    keep: ['spec'],
  },
  ConfigMap: {
    table: { 1: ['metadata', objectMeta], 2: ['data', 'map'], 3: ['binaryData', 'bytesMap'], 4: ['immutable', 'bool'] },
    keep: [],
  },
  Secret: {
    table: { 1: ['metadata', objectMeta], 2: ['data', 'bytesMap'], 3: ['type', 'string'], 4: ['stringData', 'map'], 5: ['immutable', 'bool'] },
    keep: [],
  },
  Service: {
    table: { 1: ['metadata', objectMeta], 2: ['spec', serviceSpec] },
    keep: ['spec'],
  },
  Deployment: {
    table: { 1: ['metadata', objectMeta], 2: ['spec', deploymentSpec] },
    keep: ['spec'],
  },
};

/**
 * Decodes a k8s protobuf request body into a JSON object with apiVersion and kind.
 * `expectedKind` is used when the envelope's typeMeta leaves the kind empty.
 */
export function decodeKubernetesProtobuf(body: Uint8Array, expectedKind?: string): KubeObject {
  if (body.length < 4 || body[0] !== 0x6b || body[1] !== 0x38 || body[2] !== 0x73 || body[3] !== 0x00) {
    throw new ProtobufDecodeError('BadRequest', 'the body is not a Kubernetes protobuf message (missing the "k8s\\0" prefix)');
  }
  const unknown = decode(body.subarray(4), {
    1: ['typeMeta', (b) => decode(b, { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] })],
    2: ['raw', (b) => ({ bytes: b })],
    3: ['contentEncoding', 'string'],
  });
  if (unknown.contentEncoding) throw new ProtobufDecodeError('UnsupportedMediaType', `protobuf content encoding "${String(unknown.contentEncoding)}" is not supported`);
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const kind = typeMeta.kind ?? expectedKind ?? '';
  const def = KINDS[kind];
  if (!def) {
    throw new ProtobufDecodeError('UnsupportedMediaType', `the body of the request was in an unknown format - protobuf is accepted only for ${Object.keys(KINDS).join(', ')}; send application/json`);
  }
  const raw = ((unknown.raw as { bytes?: Uint8Array } | undefined)?.bytes) ?? new Uint8Array();
  const present = new Set(fields(raw).map((f) => def.table[f.n]?.[0]));
  const obj = decode(raw, def.table);
  for (const k of def.keep) if (present.has(k)) obj[k] ??= {};
  const out: Obj = { ...(typeMeta.apiVersion ? { apiVersion: typeMeta.apiVersion } : {}), kind, metadata: {}, ...obj };
  return out as unknown as KubeObject;
}
