// Before the caches have read the API, the services answer UNAVAILABLE (the client retries)
// rather than "no such service" from empty caches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { KubeConfig } from '@kubernetes/client-node';
import { silentLogger } from '../../src/core/log.js';
import { systemClock } from '../../src/core/clock.js';
import { MeshView } from '../../src/kube/mesh-view.js';
import { DestinationWatcher } from '../../src/destination/watcher.js';
import { ServiceMetrics } from '../../src/core/grpc/service-metrics.js';
import { startDestinationServer } from '../../src/destination/service.js';
import { fixedServerCredentials } from '../../src/core/tls/renewing-credentials.js';
import { destinationClient, Recorder, testPki } from './harness.js';

test('Get answers UNAVAILABLE while the API cannot be listed', async () => {
  const kc = new KubeConfig();
  // Port 1 on loopback: nothing listens, every list fails.
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const view = MeshView.standalone(kc, ['services', 'endpointslices'], silentLogger, systemClock, 'cluster.local');
  view.start();
  const pki = await testPki();
  const metrics = new ServiceMetrics('destination');
  const server = await startDestinationServer({ host: '127.0.0.1', port: 0, credentials: fixedServerCredentials(pki.serverCert, pki.ca.certPem), view, watcher: new DestinationWatcher(view, 'spiffe'), metrics, queueCapacity: 10, log: silentLogger, syncTimeoutMs: 300 });
  const client = destinationClient(server.address, await pki.client('spiffe://cluster.local/ns/a/sa/b'));
  try {
    const end = await new Recorder(client.Get({ path: 'postgres.hybrid-app:5432' })).ended();
    assert.equal(end.code, grpc.status.UNAVAILABLE);
    assert.equal(metrics.lookupErrors, 1);
  } finally {
    client.close();
    await server.stop();
    await view.stop();
  }
});
