// The mesh contract stays generated: regenerating src/api/gen from proto/ changes nothing, and the
// one loader (src/api/load.ts) decodes every message in the shape the generated `__Output` types say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { loadRoot, writeGenerated } from '../../scripts/gen-api.js';
import { SERVICE_PROTOS, type ServiceName } from '../../src/api/gen/services.js';
import { serviceDefinition } from '../../src/api/load.js';

const repo = join(import.meta.dirname, '..', '..');
const committed = join(repo, 'src', 'api', 'gen');

test('src/api/gen is what `npm run gen:api` writes from proto/ (run it after editing a .proto)', () => {
  const out = mkdtempSync(join(tmpdir(), 'outpost-gen-api-'));
  try {
    writeGenerated(join(repo, 'proto'), out); // what `npm run gen:api` does, into a temporary directory
    const fresh = readdirSync(out).sort();
    assert.ok(fresh.includes('destination.ts') && fresh.includes('policy.ts') && fresh.includes('spiffe-workload.ts'), `generated: ${fresh.join(', ')}`);
    assert.deepEqual(readdirSync(committed).sort(), fresh, 'src/api/gen has other files than the generator writes: run npm run gen:api');
    for (const f of fresh) {
      assert.equal(readFileSync(join(committed, f), 'utf8'), readFileSync(join(out, f), 'utf8'), `src/api/gen/${f} is stale: run npm run gen:api`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/** The keys a decoded message has, as the generator models it: every field but unset oneof members. */
function expectedKeys(t: protobuf.Type, oneofMember?: protobuf.Field): string[] {
  const keys = t.fieldsArray.filter((f) => !f.partOf).map((f) => f.name);
  if (oneofMember?.partOf) keys.push(oneofMember.name, oneofMember.partOf.name);
  return keys.sort();
}

test('the loader decodes every request and response with camelCase fields, defaults filled and message fields null', () => {
  const root = loadRoot(join(repo, 'proto'));
  let checked = 0;
  for (const name of Object.keys(SERVICE_PROTOS) as ServiceName[]) {
    const service = root.lookupService(name);
    const def = serviceDefinition(name);
    for (const m of service.methodsArray) {
      const method = def[m.name];
      assert.ok(method, `${name}.${m.name} is in the loaded definition`);
      for (const [type, ser, de] of [
        [m.resolvedRequestType!, method.requestSerialize, method.requestDeserialize],
        [m.resolvedResponseType!, method.responseSerialize, method.responseDeserialize],
      ] as const) {
        const empty = de(ser({})) as Record<string, unknown>;
        assert.deepEqual(Object.keys(empty).sort(), expectedKeys(type), `${type.fullName} decoded from an empty message`);
        for (const f of type.fieldsArray) {
          if (f.partOf) continue;
          if (f.map) assert.deepEqual(empty[f.name], {}, `${type.fullName}.${f.name}`);
          else if (f.repeated) assert.deepEqual(empty[f.name], [], `${type.fullName}.${f.name}`);
          else if (f.resolvedType instanceof protobuf.Type) assert.equal(empty[f.name], null, `${type.fullName}.${f.name}`);
          else if (f.resolvedType instanceof protobuf.Enum) assert.equal(empty[f.name], Object.keys(f.resolvedType.values)[0], `${type.fullName}.${f.name} is an enum name`);
        }
        checked++;
      }
    }
  }
  assert.ok(checked >= 20, `checked ${checked} messages`);
});

test('a oneof decodes as its member and the oneof name; int64 as a number; bytes as a Buffer', () => {
  const get = serviceDefinition('outpost.destination.v1.Destination').Get;
  const update = get.responseDeserialize(get.responseSerialize({ noEndpoints: { exists: true } })) as Record<string, unknown>;
  const root = loadRoot(join(repo, 'proto'));
  const updateType = root.lookupType('outpost.destination.v1.Update');
  assert.deepEqual(Object.keys(update).sort(), expectedKeys(updateType, updateType.fields.noEndpoints));
  assert.deepEqual(update, { noEndpoints: { exists: true }, update: 'noEndpoints' });

  const certify = serviceDefinition('outpost.identity.v1.Identity').Certify;
  const res = certify.responseDeserialize(certify.responseSerialize({ leafCertificate: Buffer.from([1, 2]), validUntilUnixMs: 1_800_000_000_000 })) as Record<string, unknown>;
  assert.equal(res.validUntilUnixMs, 1_800_000_000_000);
  assert.ok(Buffer.isBuffer(res.leafCertificate));
  assert.deepEqual([...(res.leafCertificate as Buffer)], [1, 2]);
});
