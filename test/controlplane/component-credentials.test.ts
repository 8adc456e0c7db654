// Per-component credentials of `outpost up --kubeconfig`: tokens of a ServiceAccount minted through
// the TokenRequest API with admin credentials, cached until 80 % of their lifetime, then minted
// again; a KubeConfig that calls the API as that ServiceAccount; a missing ServiceAccount named.
// Against the embedded API (it serves TokenRequest; it grants ServiceAccounts no resource: 403).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startTestApi, type TestApi } from '../apiserver/http/harness.js';
import { FakeClock } from '../../src/core/clock.js';
import { COMPONENT_TOKEN_SECONDS, kubeConfigForServiceAccount, serviceAccountTokens } from '../../src/controlplane/component-credentials.js';
import { listJson } from '../../src/kube/list-json.js';

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

describe('per-component ServiceAccount credentials', () => {
  let api: TestApi;
  let admin: KubeConfig;

  before(async () => {
    api = await startTestApi();
    admin = new KubeConfig();
    admin.loadFromFile(api.kubeconfig);
    for (const args of [['create', 'namespace', 'outpost'], ['create', 'serviceaccount', 'outpost-destination', '-n', 'outpost']]) {
      const r = await api.kubectl(args);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => api?.stop());

  it('mints a token of the ServiceAccount, reuses it until 80 % of its lifetime, then mints a new one', async () => {
    const clock = new FakeClock(Date.now());
    const tokens = serviceAccountTokens(admin, 'outpost', 'outpost-destination', clock);
    const [a, b] = await Promise.all([tokens.token(), tokens.token()]);
    assert.equal(a, b, 'one TokenRequest for concurrent callers');
    const c = claims(a);
    assert.equal(c.sub, 'system:serviceaccount:outpost:outpost-destination');
    assert.equal(c.exp - c.iat, COMPONENT_TOKEN_SECONDS);
    clock.advance(COMPONENT_TOKEN_SECONDS * 1000 * 0.79);
    assert.equal(await tokens.token(), a);
    clock.advance(COMPONENT_TOKEN_SECONDS * 1000 * 0.02);
    const renewed = await tokens.token();
    assert.notEqual(renewed, a);
    assert.notEqual(claims(renewed).jti, c.jti);
  });

  it('calls the API as the ServiceAccount (same server and CA as the admin kubeconfig)', async () => {
    const kc = kubeConfigForServiceAccount(admin, 'outpost', 'outpost-destination', serviceAccountTokens(admin, 'outpost', 'outpost-destination', new FakeClock(Date.now())));
    assert.equal(kc.getCurrentCluster()?.server, admin.getCurrentCluster()?.server);
    const listed = await listJson(kc, '/api/v1/namespaces');
    assert.equal(listed.statusCode, 403);
    assert.match(listed.body.message, /User "system:serviceaccount:outpost:outpost-destination" cannot list resource "namespaces"/);
    await assert.rejects(kc.makeApiClient(CoreV1Api).listNamespace(), (e: { code?: number }) => e.code === 403);
  });

  it('names a missing ServiceAccount and says to apply outpost install', async () => {
    const tokens = serviceAccountTokens(admin, 'outpost', 'outpost-nothing', new FakeClock(Date.now()));
    await assert.rejects(tokens.token(), /ServiceAccount outpost\/outpost-nothing does not exist in the cluster/);
  });
});
