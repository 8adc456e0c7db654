// Pure parts of onboarding: input validation, the workload merge patch, endpoints, rendered files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortSpec, validateOnboardRequest } from '../../src/workload/request.js';
import { externalWorkloadManifest, externalWorkloadPatch } from '../../src/workload/manifests.js';
import { controlPlaneEndpoints } from '../../src/workload/endpoints.js';
import { defaultLayout, renderProxyConfig } from '../../src/workload/bundle.js';
import { parseProxyConfig } from '../../src/proxy/config.js';
import { parse as parseYaml } from 'yaml';

describe('onboarding input', () => {
  it('parses port specs', () => {
    const table: [string, object | RegExp][] = [
      ['http:8080', { name: 'http', port: 8080, protocol: 'TCP' }],
      ['dns:53/udp', { name: 'dns', port: 53, protocol: 'UDP' }],
      ['http', /expected name:port/],
      ['http:0', /out of range/],
      ['Http:80', /lower-case/],
      ['x:80/icmp', /must be TCP, UDP or SCTP/],
    ];
    for (const [spec, want] of table) {
      if (want instanceof RegExp) assert.throws(() => parsePortSpec(spec), want, spec);
      else assert.deepEqual(parsePortSpec(spec), want, spec);
    }
  });
  it('defaults the ServiceAccount to the name and allows a group without ports', () => {
    const req = validateOnboardRequest({ name: 'redis-vm-1', namespace: 'cache', ip: '127.0.0.5', group: 'redis-cache-fleet' });
    assert.equal(req.serviceAccount, 'redis-vm-1');
    assert.deepEqual(externalWorkloadManifest(req).metadata.labels, { workloadGroup: 'redis-cache-fleet' });
    assert.equal(externalWorkloadManifest(req).spec.ports, undefined);
    assert.throws(() => validateOnboardRequest({ name: 'vm', namespace: 'ns', ip: '127.0.0.5' }), /--port: give at least one/);
  });
});

describe('workload merge patch', () => {
  const req = validateOnboardRequest({ name: 'vm', namespace: 'ns', ip: '127.0.0.5', ports: ['http:80'], labels: ['app=web'] });
  const wanted = externalWorkloadManifest(req);
  it('is empty when the workload already matches (re-run writes nothing)', () => {
    const existing = { metadata: { labels: { app: 'web', extra: 'kept' }, annotations: { 'outpost.io/service-account': 'vm', other: 'x' } }, spec: { workloadIPs: [{ ip: '127.0.0.5' }], ports: [{ name: 'http', port: 80 }], probes: [{ port: 1 }] } };
    assert.equal(externalWorkloadPatch(existing, wanted), undefined);
  });
  it('changes only what differs and never removes the user\'s fields', () => {
    const existing = { metadata: { labels: { app: 'old' } }, spec: { workloadIPs: [{ ip: '127.0.0.9' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
    assert.deepEqual(externalWorkloadPatch(existing, wanted), {
      metadata: { labels: { app: 'web' }, annotations: { 'outpost.io/service-account': 'vm' } },
      spec: { workloadIPs: [{ ip: '127.0.0.5' }] },
    });
  });
});

describe('control-plane endpoints', () => {
  it('uses the local listeners, else the API host with default ports, and honours the host override', () => {
    const listeners = { identity: '127.0.0.1:40001', destination: '0.0.0.0:40002', policy: '127.0.0.1:40003', health: '127.0.0.1:40004' };
    assert.deepEqual(controlPlaneEndpoints(listeners, 'https://127.0.0.1:6443'), { identity: '127.0.0.1:40001', destination: '127.0.0.1:40002', policy: '127.0.0.1:40003', health: '127.0.0.1:40004' });
    assert.deepEqual(controlPlaneEndpoints(undefined, 'https://api.example:6443'), { identity: 'api.example:8080', destination: 'api.example:8086', policy: 'api.example:8090', health: 'api.example:8087' });
    assert.equal(controlPlaneEndpoints(listeners, 'https://127.0.0.1:6443', '198.18.0.1').destination, '198.18.0.1:40002');
  });
});

describe('proxy-config.yaml', () => {
  it('is read by the proxy config module as the same settings', () => {
    const req = validateOnboardRequest({ name: 'api-server', namespace: 'hybrid-app', ip: '127.0.0.5', ports: ['http:8080'] });
    const layout = { ...defaultLayout(req), upstreams: [{ service: 'postgres.hybrid-app.svc.cluster.local', port: 5432, listen: '127.0.0.1:5432', protocol: 'opaque' as const }] };
    const text = renderProxyConfig({ req, endpoints: { identity: '127.0.0.1:8080', destination: '127.0.0.1:8086', policy: '127.0.0.1:8090', health: '127.0.0.1:8087' }, layout });
    const config = parseProxyConfig(parseYaml(text));
    assert.equal(config.identity.mode, 'controlPlane');
    assert.equal(config.identity.tokenPath, '/etc/outpost/token');
    assert.deepEqual(config.upstreams[0].listen, { host: '127.0.0.1', port: 5432 });
    assert.equal(config.upstreams[0].authority, 'postgres.hybrid-app.svc.cluster.local:5432');
    assert.deepEqual(config.health.endpoint, { host: '127.0.0.1', port: 8087 });
  });
});

describe('workload merge patch with probes', () => {
  it('ignores the defaults the API fills into stored probes', () => {
    const req = validateOnboardRequest({ name: 'postgres-primary', namespace: 'hybrid-app', ip: '127.0.0.5', ports: ['postgres:5432'] });
    const wanted = externalWorkloadManifest(req, [{ path: '/health', port: 8081, period: '10s' }]);
    const stored = { metadata: { annotations: { 'outpost.io/service-account': 'postgres-primary' } }, spec: { workloadIPs: [{ ip: '127.0.0.5' }], ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }], probes: [{ path: '/health', port: 8081, period: '10s', timeout: '1s', failureThreshold: 3, successThreshold: 1 }] } };
    assert.equal(externalWorkloadPatch(stored, wanted), undefined);
    assert.deepEqual(externalWorkloadPatch({ ...stored, spec: { ...stored.spec, probes: [{ path: '/ready', port: 8081 }] } }, wanted), { spec: { probes: [{ path: '/health', port: 8081, period: '10s' }] } });
  });
});
