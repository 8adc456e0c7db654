// Who may obtain a control-plane service's certificate (docs/adr/0022): only a token of the
// service's own ServiceAccount in `outpost`, only for that service's names, and never identity's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { withControlPlaneServices } from '../../src/identity/control-plane-services.js';
import type { CertifyInput, Entitlement, ReviewedToken } from '../../src/identity/certify.js';
import { Refusal } from '../../src/identity/refusal.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { CONTROL_PLANE_SERVICE_ACCOUNTS } from '../../src/core/workloads/reserved-names.js';
import { INSTALL_COMPONENTS } from '../../src/install/components.js';
import { Authority } from '../../src/identity/authority.js';
import { installCaMaterial } from '../../src/install/ca.js';
import { derToPem } from '../../src/identity/leaf.js';

const TD = 'cluster.local';
const DEST = { identity: `spiffe://${TD}/ns/outpost/sa/outpost-destination`, serverName: 'destination.outpost.svc.cluster.local' };
// Tokens name their ServiceAccount, as TokenReview would answer for them.
const review = async (token: string): Promise<ReviewedToken> => {
  const [namespace, serviceAccount] = token.split(':');
  return { namespace, serviceAccount, uid: `uid-${token}` };
};
const next = async (input: CertifyInput): Promise<Entitlement> => {
  throw new Refusal('workload_not_found', `the workload path got ${input.workload}`);
};
const authorize = withControlPlaneServices({ trustDomain: TD, reviewToken: review, next });

async function ask(token: string | undefined, workload: string, names = DEST) {
  const csr = await createCsr(generateWorkloadKey(), names);
  return authorize({ identity: names.identity, workload, csr, caller: { token } });
}

async function refusal(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Refusal) return e;
    throw e;
  }
  assert.fail('expected a refusal');
}

describe('control-plane service certificates', () => {
  it("issues destination's names to outpost/outpost-destination's token, as a reusable token", async () => {
    const ent = await ask('outpost:outpost-destination', 'outpost/destination');
    assert.equal(ent.service, 'destination');
    assert.equal(ent.workload.identity, DEST.identity);
    assert.equal(ent.reusableToken, true);
  });

  it("refuses destination's names to any other ServiceAccount's token, of outpost or not", async () => {
    for (const token of ['outpost:outpost-policy', 'outpost:default', 'payments:outpost-destination', 'payments:payment-processor-vm-1']) {
      const r = await refusal(ask(token, 'outpost/destination'));
      assert.equal(r.reason, 'identity_not_allowed', token);
      assert.match(r.message, /issued only to ServiceAccount outpost\/outpost-destination/);
    }
  });

  it("never issues identity's own certificate, an unknown service, or one without a token", async () => {
    const id = { identity: `spiffe://${TD}/ns/outpost/sa/outpost-identity`, serverName: 'identity.outpost.svc.cluster.local' };
    assert.equal((await refusal(ask('outpost:outpost-identity', 'outpost/identity', id))).reason, 'identity_not_allowed');
    assert.equal((await refusal(ask('outpost:outpost-destination', 'outpost/anything'))).reason, 'identity_not_allowed');
    assert.equal((await refusal(ask(undefined, 'outpost/destination'))).reason, 'no_credentials');
  });

  it("refuses a CSR or identity other than the service's own (and tells the right names)", async () => {
    const other = { identity: `spiffe://${TD}/ns/outpost/sa/outpost-policy`, serverName: 'policy.outpost.svc.cluster.local' };
    const r = await refusal(ask('outpost:outpost-destination', 'outpost/destination', other));
    assert.equal(r.reason, 'identity_mismatch');
    assert.equal(r.details['outpost-expected-identity'], DEST.identity);
    const csr = await createCsr(generateWorkloadKey(), other);
    const bad = await refusal(authorize({ identity: DEST.identity, workload: 'outpost/destination', csr, caller: { token: 'outpost:outpost-destination' } }));
    assert.equal(bad.reason, 'csr_invalid');
  });

  it('leaves every other namespace to the workload path (which refuses reserved names, ADR 0016)', async () => {
    const r = await refusal(ask('payments:x', 'payments/x'));
    assert.equal(r.reason, 'workload_not_found');
  });

  it("names each service's ServiceAccount as `outpost install` renders it", () => {
    const rendered = Object.fromEntries(INSTALL_COMPONENTS.filter((c) => c.name !== 'identity').map((c) => [c.service ?? c.name, c.serviceAccount]));
    assert.deepEqual(CONTROL_PLANE_SERVICE_ACCOUNTS, rendered);
  });

  it('signs the same names for a caller key as for an in-process service certificate', async () => {
    const { material } = await installCaMaterial({}, TD);
    const authority = Authority.load(material, TD);
    const key = (await import('node:crypto')).createPublicKey(generateWorkloadKey()).export({ type: 'spki', format: 'der' }) as Buffer;
    const leaf = new X509Certificate(derToPem(authority.issueServiceLeaf('destination', key, { lifetimeMs: 3_600_000, now: Date.now() }).leafDer));
    const local = new X509Certificate(authority.issueServiceCertificate('destination', { listen: '127.0.0.1', lifetimeMs: 3_600_000, now: Date.now() }).certPem);
    assert.equal(leaf.subjectAltName, local.subjectAltName);
    assert.match(leaf.subjectAltName ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/outpost\/sa\/outpost-destination/);
  });
});
