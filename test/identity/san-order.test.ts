// SAN order, read back by the real openssl: every certificate Outpost issues names its SPIFFE URI
// first, then its DNS names, then IPs, because a Linkerd proxy takes a peer's *first* SAN as its identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createIntermediateCA, createRootCA, issueLeaf } from '../../src/core/pki.js';
import { Authority, derToPem } from '../../src/identity/authority.js';
import { checkCsr } from '../../src/identity/csr-check.js';
import { createCsr, generateWorkloadKey } from '../../src/core/identity/csr.js';
import { newCaMaterial } from './fixtures.js';
import { podServerName } from '../../src/core/workloads/pod.js';

/** The SAN line exactly as `openssl x509 -text -noout` prints it. */
function opensslSans(pem: string): string {
  const text = execFileSync('openssl', ['x509', '-text', '-noout'], { input: pem }).toString();
  const m = /X509v3 Subject Alternative Name: ?(?:critical)?\n\s+(.+)\n/.exec(text);
  assert.ok(m, `no SAN extension in:\n${text}`);
  return m[1].trim();
}

const ID = 'spiffe://cluster.local/ns/payments/sa/payment-processor';
const SERVER_NAME = 'payment-processor-vm.payments.svc.cluster.local';

const cases: { what: string; issue: () => Promise<string>; want: string }[] = [
  {
    what: 'a workload leaf from the identity service (URI, then the serverName)',
    issue: async () => {
      const auth = Authority.load(await newCaMaterial(), 'cluster.local');
      const names = { identity: ID, serverName: SERVER_NAME };
      const { spki } = checkCsr(await createCsr(generateWorkloadKey(), names), names);
      return derToPem(auth.issueWorkloadLeaf({ spki, ...names, lifetimeMs: 60_000, now: Date.now() }).leafDer);
    },
    want: `URI:${ID}, DNS:${SERVER_NAME}`,
  },
  ...(['spiffe', 'linkerd'] as const).map((naming) => ({
    what: `a pod's leaf under --identity-naming=${naming} (URI, then the ${naming === 'linkerd' ? "name Linkerd gives the ServiceAccount" : "Outpost-shaped name"})`,
    issue: async () => {
      const names = { identity: 'spiffe://cluster.local/ns/hybrid-app/sa/api-server', serverName: podServerName('hybrid-app', 'api-server', 'cluster.local', naming) };
      const { spki } = checkCsr(await createCsr(generateWorkloadKey(), names), names);
      return derToPem(Authority.load(await newCaMaterial(), 'cluster.local').issueWorkloadLeaf({ spki, ...names, lifetimeMs: 60_000, now: Date.now() }).leafDer);
    },
    want: `URI:spiffe://cluster.local/ns/hybrid-app/sa/api-server, DNS:api-server.hybrid-app.serviceaccount.identity.${naming === 'linkerd' ? 'linkerd' : 'outpost'}.cluster.local`,
  })),
  {
    what: 'a control-plane service certificate (URI, the DNS names, then IPs)',
    issue: async () => Authority.load(await newCaMaterial(), 'cluster.local').issueServiceCertificate('identity', { listen: '127.0.0.2', lifetimeMs: 60_000, now: Date.now() }).certPem,
    want: 'URI:spiffe://cluster.local/ns/outpost/sa/outpost-identity, DNS:identity.outpost.svc.cluster.local, DNS:outpost-identity.outpost.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:127.0.0.2',
  },
  {
    what: 'a leaf from the general-purpose issuer (files mode, cert-manager-like), names given DNS first',
    issue: async () => {
      const root = await createRootCA({ commonName: 'root', lifetimeMs: 3_600_000 });
      const issuer = await createIntermediateCA(root, { commonName: 'issuer', lifetimeMs: 3_600_000 });
      return (await issueLeaf(issuer, { commonName: SERVER_NAME, sans: { dns: [SERVER_NAME], ips: ['127.0.0.1'], uris: [ID] }, lifetimeMs: 60_000 })).certPem;
    },
    want: `URI:${ID}, DNS:${SERVER_NAME}, IP Address:127.0.0.1`,
  },
];

for (const c of cases) {
  test(`SAN order: ${c.what}`, async () => {
    assert.equal(opensslSans(await c.issue()), c.want);
  });
}
