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
