// The structural-schema engine on its own: types, int-or-string, enums, bounds, required fields,
// Kubernetes field paths, unknown-field detection and pruning, nulls, and top-down defaulting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Schema } from '../../src/apiserver/resources/types.js';
import { applySchemaDefaults, findUnknownFields, pruneUnknownFields, schemaAt, validateSchema } from '../../src/apiserver/schema/structural.js';
import { arr, int32, intOrString, obj, preserved, str, stringMap } from '../../src/apiserver/schema/builders.js';
import { cidr, dns1035Label, dns1123Label, dns1123Subdomain, goDuration, ianaSvcName, identityMatch, ipFamily, labelValue, parseGoDuration, qualifiedName, spiffeId } from '../../src/kube/formats.js';
import { describeCauses } from '../../src/kube/field-errors.js';

const schema: Schema = obj({
  spec: obj(
    {
      ports: arr(obj({ name: str(), port: int32({ minimum: 1, maximum: 65535 }), protocol: str({ enum: ['TCP', 'UDP'], default: 'TCP' }), target: intOrString() }, ['port'])),
      labels: stringMap(),
      mode: str({ enum: ['a', 'b'] }),
      nested: obj({ inner: obj({ deep: str({ default: 'x' }) }, undefined, { default: {} }) }),
      free: preserved({ properties: { known: int32() } }),
      name: str({ minLength: 1, maxLength: 5, pattern: '^[a-z]+$' }),
      maybe: { ...str(), nullable: true },
      when: { type: 'string', format: 'date-time' },
    },
    ['ports'],
  ),
});

test('reports each violation with its Kubernetes field path and reason', () => {
  const causes = validateSchema(
    {
      spec: {
        ports: [{ port: 80 }, { port: 70000, protocol: 'SCTP' }, { name: 'x' }, { port: '80' }, { port: 1, target: true }],
        labels: { a: 1 },
        mode: 'c',
        name: 'TOOLONGNAME',
        when: 'yesterday',
      },
    },
    schema,
  );
  const got = causes.map((c) => [c.field, c.reason]);
  assert.deepEqual(got, [
    ['spec.ports[1].port', 'FieldValueInvalid'],
    ['spec.ports[1].protocol', 'FieldValueNotSupported'],
    ['spec.ports[2].port', 'FieldValueRequired'],
    ['spec.ports[3].port', 'FieldValueTypeInvalid'],
    ['spec.ports[4].target', 'FieldValueTypeInvalid'],
    ['spec.labels[a]', 'FieldValueTypeInvalid'],
    ['spec.mode', 'FieldValueNotSupported'],
    ['spec.name', 'FieldValueTooLong'],
    ['spec.name', 'FieldValueInvalid'],
    ['spec.when', 'FieldValueInvalid'],
  ]);
  const notSupported = causes.find((c) => c.field === 'spec.mode')!;
  assert.equal(notSupported.message, 'Unsupported value: "c": supported values: "a", "b"');
  assert.equal(causes[0].message, 'Invalid value: 70000: spec.ports[1].port in body should be less than or equal to 65535');
  assert.match(causes[3].message, /^Invalid value: "80": spec\.ports\[3\]\.port in body must be of type integer: "string"$/);
  assert.equal(describeCauses([causes[2]]), 'spec.ports[2].port: Required value');
});

test('missing required parents, wrong root types and nulls', () => {
  assert.deepEqual(validateSchema({}, schema), []);
  assert.deepEqual(validateSchema({ spec: {} }, schema).map((c) => c.field), ['spec.ports']);
  assert.deepEqual(validateSchema({ spec: { ports: null } }, schema).map((c) => c.reason), ['FieldValueRequired']);
  assert.deepEqual(validateSchema({ spec: [] }, schema).map((c) => [c.field, c.reason]), [['spec', 'FieldValueTypeInvalid']]);
  assert.deepEqual(validateSchema({ spec: { ports: [], maybe: null, target: null } }, schema), []);
  assert.deepEqual(validateSchema({ spec: { ports: [{ port: 1, target: 'http' }, { port: 2, target: 8080 }] } }, schema), []);
});

test('unknown fields: found with paths, preserved subtrees left alone, pruned on request', () => {
  const value = {
    spec: {
      ports: [{ port: 1, bogus: true }],
      extra: { a: 1 },
      labels: { anything: 'goes' },
      free: { known: 1, whatever: { deep: true } },
      maybe: null,
    },
    top: 1,
  };
  assert.deepEqual(findUnknownFields(value, schema).sort(), ['spec.extra', 'spec.ports[0].bogus', 'top']);
  assert.ok((value.spec.ports[0] as any).bogus, 'find does not modify');
  const pruned = pruneUnknownFields(value, schema);
  assert.deepEqual(pruned.sort(), ['spec.extra', 'spec.ports[0].bogus', 'top']);
  assert.deepEqual(value, { spec: { ports: [{ port: 1 }], labels: { anything: 'goes' }, free: { known: 1, whatever: { deep: true } }, maybe: null } });
  const withNull = { spec: { ports: [], mode: null } };
  pruneUnknownFields(withNull, schema);
  assert.deepEqual(withNull, { spec: { ports: [] } }, 'nulls of non-nullable fields are dropped');
});

test('defaults fill absent fields top-down, including inside arrays and defaulted objects', () => {
  const value: any = { spec: { ports: [{ port: 1 }, { port: 2, protocol: 'UDP' }], nested: {} } };
  applySchemaDefaults(value, schema);
  assert.deepEqual(value.spec.ports, [{ port: 1, protocol: 'TCP' }, { port: 2, protocol: 'UDP' }]);
  assert.deepEqual(value.spec.nested, { inner: { deep: 'x' } });
  const fresh: any = { spec: { ports: [] } };
  applySchemaDefaults(fresh, schema);
  assert.equal(fresh.spec.nested, undefined, 'no default on an absent parent without its own default');
  assert.equal(schemaAt(schema, 'spec.ports.port')?.maximum, 65535);
  assert.equal(schemaAt(schema, 'spec.nope'), undefined);
});

test('formats', () => {
  assert.deepEqual(dns1123Label('payments'), []);
  assert.equal(dns1123Label('a.b').length, 1);
  assert.equal(dns1123Label('x'.repeat(64)).length, 1);
  assert.deepEqual(dns1123Subdomain('payment-processor-vm-1.payments.svc.cluster.local'), []);
  assert.equal(dns1123Subdomain('Upper').length, 1);
  assert.equal(dns1035Label('1abc').length, 1);
  assert.deepEqual(ianaSvcName('http-alt'), []);
  for (const bad of ['HTTP', 'a--b', '-http', '8080', 'sixteen-chars-xx']) assert.ok(ianaSvcName(bad).length > 0, bad);
  assert.deepEqual(qualifiedName('app.kubernetes.io/name'), []);
  assert.ok(qualifiedName('a/b/c').length > 0);
  assert.ok(qualifiedName('/name').length > 0);
  assert.deepEqual(labelValue(''), []);
  assert.ok(labelValue('-x').length > 0);
  assert.equal(ipFamily('10.0.50.100'), 4);
  assert.equal(ipFamily('2001:db8::1'), 6);
  for (const bad of ['999.1.1.1', '10.0.0', '010.0.0.1', 'fe80::1%eth0', 'host']) assert.equal(ipFamily(bad), 0, bad);
  assert.deepEqual(cidr('10.0.0.0/8'), []);
  assert.deepEqual(cidr('2001:db8::/32'), []);
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '::/129', 'x/8']) assert.ok(cidr(bad).length > 0, bad);
  assert.deepEqual(spiffeId('spiffe://cluster.local/payment-processor'), []);
  assert.deepEqual(spiffeId('spiffe://cluster.local/ns/payments/sa/payment-processor-sa'), []);
  for (const bad of ['https://cluster.local/x', 'spiffe://Cluster.local/x', 'spiffe://cluster.local', 'spiffe://cluster.local/', 'spiffe://cluster.local/a//b', 'spiffe://cluster.local/a/../b', 'spiffe://td/a b']) {
    assert.ok(spiffeId(bad).length > 0, bad);
  }
  assert.deepEqual(identityMatch('*.ns.serviceaccount.identity.linkerd.cluster.local'), []);
  assert.ok(identityMatch('Not Valid').length > 0);
  for (const ok of ['10s', '1m30s', '500ms', '1.5h', '0']) assert.deepEqual(goDuration(ok), [], ok);
  for (const bad of ['10', '10 s', 's', '-1s']) assert.ok(goDuration(bad).length > 0, bad);
  assert.equal(parseGoDuration('1m30s'), 90_000);
});
