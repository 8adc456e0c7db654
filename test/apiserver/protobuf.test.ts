// The k8s protobuf envelope: bodies captured from real kubectl 1.32 decode to the JSON kubectl means.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKubernetesProtobuf, isKubernetesProtobuf, ProtobufDecodeError } from '../../src/apiserver/protobuf.js';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

test('bodies captured from kubectl decode as the wire spec says', () => {
  const cases: [string, string, unknown][] = [
    [
      'create namespace tmpns (wire spec §6.4)',
      'azhzAAoPCgJ2MRIJTmFtZXNwYWNlEh0KFQoFdG1wbnMSABoAIgAqADIAOABCABIAGgIKABoAIgA=',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tmpns' }, spec: {} },
    ],
    [
      'create token --duration=1h (wire spec §6.4)',
      'azhzAAooChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESDFRva2VuUmVxdWVzdBIdChAKABIAGgAiACoAMgA4AEIAEgMgkBwaBAoAEgAaACIA',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { expirationSeconds: 3600 } },
    ],
    [
      'create serviceaccount sa1 -n ns',
      'azhzAAoUCgJ2MRIOU2VydmljZUFjY291bnQSFwoVCgNzYTESABoCbnMiACoAMgA4AEIAGgAiAA==',
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa1', namespace: 'ns' } },
    ],
    [
      'create token --audience=a1 --audience=a2',
      'azhzAAooChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESDFRva2VuUmVxdWVzdBIiChAKABIAGgAiACoAMgA4AEIAEggKAmExCgJhMhoECgASABoAIgA=',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { audiences: ['a1', 'a2'] } },
    ],
    [
      'create token without flags',
      'azhzAAooChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESDFRva2VuUmVxdWVzdBIaChAKABIAGgAiACoAMgA4AEIAEgAaBAoAEgAaACIA',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: {} },
    ],
  ];
  for (const [name, body, expected] of cases) assert.deepEqual(decodeKubernetesProtobuf(b64(body)), expected, name);
});

// A minimal encoder, to cover fields kubectl's create commands do not send.
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
};
const bytes = (n: number, b: number[] | string) => {
  const data = typeof b === 'string' ? [...Buffer.from(b)] : b;
  return [...varint(n * 8 + 2), ...varint(data.length), ...data];
};
const num = (n: number, v: number) => [...varint(n * 8), ...varint(v)];
const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...bytes(1, [...bytes(1, apiVersion), ...bytes(2, kind)]), ...bytes(2, raw)]);

test('labels, annotations, finalizers, owner references, timestamps, secrets and booleans', () => {
  const meta = [
    ...bytes(1, 'sa2'), ...bytes(3, 'ns'), ...num(7, 3), ...bytes(8, num(1, 1767225600)),
    ...bytes(11, [...bytes(1, 'app'), ...bytes(2, 'web')]), ...bytes(11, [...bytes(1, 'empty'), ...bytes(2, '')]),
    ...bytes(12, [...bytes(1, 'note'), ...bytes(2, 'hi')]), ...bytes(14, 'example.com/f'),
    ...bytes(13, [...bytes(1, 'Service'), ...bytes(3, 'owner'), ...bytes(4, 'u-1'), ...bytes(5, 'v1'), ...num(6, 1)]),
  ];
  const raw = [...bytes(1, meta), ...bytes(2, [...bytes(3, 'tok-secret')]), ...num(3, 0), ...bytes(4, bytes(1, 'regcred'))];
  assert.deepEqual(decodeKubernetesProtobuf(envelope('v1', 'ServiceAccount', raw)), {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: 'sa2', namespace: 'ns', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'web', empty: '' }, annotations: { note: 'hi' }, finalizers: ['example.com/f'],
      ownerReferences: [{ kind: 'Service', name: 'owner', uid: 'u-1', apiVersion: 'v1', controller: true }],
    },
    secrets: [{ name: 'tok-secret' }],
    automountServiceAccountToken: false,
    imagePullSecrets: [{ name: 'regcred' }],
  });
  const tr = [...bytes(2, [...num(4, 2 ** 33), ...bytes(3, [...bytes(1, 'Pod'), ...bytes(3, 'p1')])])];
  assert.deepEqual(decodeKubernetesProtobuf(envelope('authentication.k8s.io/v1', 'TokenRequest', tr)).spec, {
    expirationSeconds: 2 ** 33,
    boundObjectRef: { kind: 'Pod', name: 'p1' },
  });
});

test('bad bodies are BadRequest; unknown kinds are UnsupportedMediaType', () => {
  const ns = b64('azhzAAoPCgJ2MRIJTmFtZXNwYWNlEh0KFQoFdG1wbnMSABoAIgAqADIAOABCABIAGgIKABoAIgA=');
  const is = (reason: string) => (e: unknown) => e instanceof ProtobufDecodeError && e.reason === reason;
  assert.throws(() => decodeKubernetesProtobuf(new TextEncoder().encode('{"kind":"Namespace"}')), is('BadRequest'));
  assert.throws(() => decodeKubernetesProtobuf(ns.subarray(0, ns.length - 5)), is('BadRequest'));
  assert.throws(() => decodeKubernetesProtobuf(envelope('v1', 'Pod', [])), is('UnsupportedMediaType'));
  assert.equal(decodeKubernetesProtobuf(envelope('v1', '', bytes(1, bytes(1, 'x'))), 'Namespace').kind, 'Namespace');
  assert.equal(isKubernetesProtobuf('application/vnd.kubernetes.protobuf'), true);
  assert.equal(isKubernetesProtobuf('application/json'), false);
});

test('typed create commands of kubectl 1.32 (configmap, secret, service, deployment) decode to the JSON kubectl means', () => {
  const meta = (name: string, labels?: Record<string, string>) => ({ name, namespace: 'cap', ...(labels ? { labels } : {}) });
  const cases: [string, string, unknown][] = [
    [
      'create configmap cm1 --from-literal=k=v --from-literal=a=b',
      'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEigKFgoDY20xEgAaA2NhcCIAKgAyADgAQgASBgoBYRIBYhIGCgFrEgF2GgAiAA==',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cm1'), data: { a: 'b', k: 'v' } },
    ],
    [
      'create configmap bin --from-file=bin.dat (bytes ff 00 01 go to binaryData, base64)',
      'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEigKFgoDYmluEgAaA2NhcCIAKgAyADgAQgAaDgoHYmluLmRhdBID/wABGgAiAA==',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('bin'), binaryData: { 'bin.dat': '/wAB' } },
    ],
    [
      'create secret generic s1 --from-literal=k=v --type=Opaque (data is bytes: base64 in JSON)',
      'azhzAAoMCgJ2MRIGU2VjcmV0EicKFQoCczESABoDY2FwIgAqADIAOABCABIGCgFrEgF2GgZPcGFxdWUaACIA',
      { apiVersion: 'v1', kind: 'Secret', metadata: meta('s1'), data: { k: 'dg==' }, type: 'Opaque' },
    ],
    [
      'create secret docker-registry dr',
      'azhzAAoMCgJ2MRIGU2VjcmV0EpMBChUKAmRyEgAaA2NhcCIAKgAyADgAQgASWgoRLmRvY2tlcmNvbmZpZ2pzb24SRXsiYXV0aHMiOnsici5leGFtcGxlIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImF1dGgiOiJkVHB3In19fRoea3ViZXJuZXRlcy5pby9kb2NrZXJjb25maWdqc29uGgAiAA==',
      {
        apiVersion: 'v1', kind: 'Secret', metadata: meta('dr'), type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': Buffer.from('{"auths":{"r.example":{"username":"u","password":"p","auth":"dTpw"}}}').toString('base64') },
      },
    ],
    [
      'create service clusterip svc1 --tcp=5678:8080 --tcp=80:http (numeric and named targetPort)',
      'azhzAAoNCgJ2MRIHU2VydmljZRKSAQokCgRzdmMxEgAaA2NhcCIAKgAyADgAQgBaCwoDYXBwEgRzdmMxEmYKHgoJNTY3OC04MDgwEgNUQ1AYriwiBwgAEJA/GgAoAAoeCgc4MC1odHRwEgNUQ1AYUCIKCAEQABoEaHR0cCgAEgsKA2FwcBIEc3ZjMRoAIglDbHVzdGVySVA6AEIAUgBaAGAAaAAaAgoAGgAiAA==',
      {
        apiVersion: 'v1', kind: 'Service', metadata: meta('svc1', { app: 'svc1' }),
        spec: {
          ports: [{ name: '5678-8080', protocol: 'TCP', port: 5678, targetPort: 8080 }, { name: '80-http', protocol: 'TCP', port: 80, targetPort: 'http' }],
          selector: { app: 'svc1' }, type: 'ClusterIP',
        },
      },
    ],
    [
      'create service clusterip hl --clusterip=None',
      'azhzAAoNCgJ2MRIHU2VydmljZRJQCiAKAmhsEgAaA2NhcCIAKgAyADgAQgBaCQoDYXBwEgJobBIoEgkKA2FwcBICaGwaBE5vbmUiCUNsdXN0ZXJJUDoAQgBSAFoAYABoABoCCgAaACIA',
      { apiVersion: 'v1', kind: 'Service', metadata: meta('hl', { app: 'hl' }), spec: { selector: { app: 'hl' }, clusterIP: 'None', type: 'ClusterIP' } },
    ],
    [
      'create service externalname ext --external-name=example.com',
      'azhzAAoNCgJ2MRIHU2VydmljZRJdCiIKA2V4dBIAGgNjYXAiACoAMgA4AEIAWgoKA2FwcBIDZXh0EjMSCgoDYXBwEgNleHQaACIMRXh0ZXJuYWxOYW1lOgBCAFILZXhhbXBsZS5jb21aAGAAaAAaAgoAGgAiAA==',
      { apiVersion: 'v1', kind: 'Service', metadata: meta('ext', { app: 'ext' }), spec: { selector: { app: 'ext' }, type: 'ExternalName', externalName: 'example.com' } },
    ],
    [
      'create deployment d1 --image=nginx --port=80 --replicas=0 (replicas 0 is kept)',
      'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErcBCiAKAmQxEgAaA2NhcCIAKgAyADgAQgBaCQoDYXBwEgJkMRKEAQgAEgsKCQoDYXBwEgJkMRprChsKABIAGgAiACoAMgA4AEIAWgkKA2FwcBICZDESTBIuCgVuZ2lueBIFbmdpbngqADIKCgAQABhQIgAqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==',
      {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('d1', { app: 'd1' }),
        spec: {
          replicas: 0, selector: { matchLabels: { app: 'd1' } },
          template: { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }] } },
        },
      },
    ],
  ];
  for (const [name, body, expected] of cases) assert.deepEqual(decodeKubernetesProtobuf(b64(body)), expected, name);
});

test('fields kubectl create does not send: immutable, stringData, Service options, Deployment strategy and container details', () => {
  const meta = bytes(1, [...bytes(1, 'x')]);
  const cm = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', [...meta, ...num(4, 1), ...bytes(2, [...bytes(1, 'empty'), ...bytes(2, '')])]));
  assert.deepEqual(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { empty: '' }, immutable: true });
  const secret = decodeKubernetesProtobuf(envelope('v1', 'Secret', [...meta, ...bytes(4, [...bytes(1, 'user'), ...bytes(2, 'admin')]), ...num(5, 0)]));
  assert.deepEqual(secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, stringData: { user: 'admin' }, immutable: false });
  const port = [...bytes(1, 'https'), ...bytes(2, 'TCP'), ...num(3, 443), ...bytes(4, [...num(1, 0), ...num(2, 8443)]), ...num(5, 30443), ...bytes(6, 'kubernetes.io/h2c')];
  const spec = [
    ...bytes(1, port), ...bytes(18, '10.96.0.10'), ...bytes(19, 'IPv4'), ...bytes(17, 'SingleStack'), ...num(13, 1), ...num(20, 0),
    ...bytes(11, 'Local'), ...bytes(22, 'Cluster'), ...bytes(5, '192.0.2.1'),
  ];
  assert.deepEqual(decodeKubernetesProtobuf(envelope('v1', 'Service', [...meta, ...bytes(2, spec)])).spec, {
    ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 8443, nodePort: 30443, appProtocol: 'kubernetes.io/h2c' }],
    clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', publishNotReadyAddresses: true,
    allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Cluster', externalIPs: ['192.0.2.1'],
  });
  const quantity = (k: string, v: string) => bytes(1, [...bytes(1, k), ...bytes(2, bytes(1, v))]);
  const container = [
    ...bytes(1, 'app'), ...bytes(2, 'busybox'), ...bytes(3, 'sleep'), ...bytes(4, '10'), ...bytes(7, [...bytes(1, 'MODE'), ...bytes(2, 'on')]),
    ...bytes(8, [...quantity('cpu', '100m'), ...bytes(2, [...bytes(1, 'memory'), ...bytes(2, bytes(1, '64Mi'))])]), ...bytes(14, 'IfNotPresent'),
  ];
  const dspec = [
    ...num(1, 3), ...bytes(2, bytes(2, [...bytes(1, 'tier'), ...bytes(2, 'In'), ...bytes(3, 'web')])),
    ...bytes(3, [...bytes(1, bytes(11, [...bytes(1, 'tier'), ...bytes(2, 'web')])), ...bytes(2, [...bytes(2, container), ...bytes(8, 'runner'), ...num(11, 0)])]),
    ...bytes(4, bytes(1, 'Recreate')), ...num(7, 0), ...num(9, 600),
  ];
  assert.deepEqual(decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', [...meta, ...bytes(2, dspec)])).spec, {
    replicas: 3,
    selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
    template: {
      metadata: { labels: { tier: 'web' } },
      spec: {
        containers: [{ name: 'app', image: 'busybox', command: ['sleep'], args: ['10'], env: [{ name: 'MODE', value: 'on' }], resources: { limits: { cpu: '100m' }, requests: { memory: '64Mi' } }, imagePullPolicy: 'IfNotPresent' }],
        serviceAccountName: 'runner',
      },
    },
    strategy: { type: 'Recreate' },
    progressDeadlineSeconds: 600,
  });
});
