// Pure parts of onboarding: input validation, the workload merge patch, endpoints, rendered files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortSpec, validateOnboardRequest } from '../../src/workload/request.js';
import { externalWorkloadManifest, externalWorkloadPatch } from '../../src/workload/manifests.js';
import { controlPlaneEndpoints } from '../../src/workload/endpoints.js';
import { defaultLayout, renderBundle, renderGroupBundle, renderProxyConfig } from '../../src/workload/bundle.js';
import { groupServiceAccount } from '../../src/workload/group.js';
import { validateGroupOnboardRequest } from '../../src/workload/request.js';
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
    const client = validateOnboardRequest({ name: 'checkout-vm', namespace: 'ns', ip: '127.0.0.5' });
    assert.deepEqual(client.ports, [], 'a client-only workload needs no port');
    assert.equal(externalWorkloadManifest(client).spec.ports, undefined);
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

describe('group bundle (onboard --group G without NAME)', () => {
  const endpointsAt = (host: string) => ({ identity: `${host}:8080`, destination: `${host}:8086`, policy: `${host}:8090`, health: `${host}:8087` });
  const render = (host: string) =>
    renderGroupBundle({ namespace: 'caching', group: 'redis-cache-fleet', ports: [6379, 26379], endpoints: endpointsAt(host), caPem: 'CA', token: 'T', layout: defaultLayout({ inboundPort: 4143 }) }, 'fleet-bundle');
  const file = (b: ReturnType<typeof render>, name: string) => b.files.find((f) => f.name === name)!.content;

  it("install.sh finds the VM's address from its route to the identity host (an IP, a bracketed IPv6, or a resolved name)", () => {
    for (const [host, line] of [
      ['198.19.4.1', 'ROUTE_TO=198.19.4.1'],
      ['[fd00::1]', 'ROUTE_TO=fd00::1'],
      ['cp.example.internal', "ROUTE_TO=$(getent ahosts cp.example.internal | awk 'NR==1 {print $1}')"],
    ] as const) {
      const install = file(render(host), 'install.sh');
      assert.ok(install.includes(`  ${line}\n`), `${host}: ${line}`);
      assert.match(install, /--address\) .*ADDRESS=\$2/);
      assert.match(install, /sed "s#@WORKLOAD_ADDRESS@#\$ADDRESS#" proxy-config\.yaml > \/etc\/outpost\/proxy-config\.yaml/);
    }
  });

  it('one set of commands for every VM; a single-workload bundle keeps its own install.sh without --address', () => {
    const b = render('198.19.4.1');
    assert.deepEqual(b.vmCommands, ['scp -r fleet-bundle root@VM:/tmp/outpost-bundle', 'ssh root@VM /tmp/outpost-bundle/install.sh --capture']);
    assert.match(file(b, 'outpost-proxy.service'), /Description=Outpost proxy \(caching\/group:redis-cache-fleet\)/);
    const req = validateOnboardRequest({ name: 'vm-1', namespace: 'payments', ip: '127.0.0.5', ports: ['http:8080'] });
    const single = renderBundle({ req, endpoints: endpointsAt('127.0.0.1'), caPem: 'CA', token: 'T', layout: defaultLayout(req) }, 'b', req.ip);
    const install = single.files.find((f) => f.name === 'install.sh')!.content;
    assert.doesNotMatch(install, /ADDRESS|ip route/);
    assert.match(install, /install -m 0644 proxy-config\.yaml \/etc\/outpost\/proxy-config\.yaml/);
    assert.deepEqual(single.vmCommands, ['scp -r b root@127.0.0.5:/tmp/outpost-bundle', 'ssh root@127.0.0.5 /tmp/outpost-bundle/install.sh --capture']);
  });

  it('binds the flag, else the existing binding, else the group name; validates the group request', () => {
    assert.equal(groupServiceAccount({ group: 'g', serviceAccount: 'sa' }, 'old'), 'sa');
    assert.equal(groupServiceAccount({ group: 'g' }, 'old'), 'old');
    assert.equal(groupServiceAccount({ group: 'g' }, undefined), 'g');
    assert.deepEqual(validateGroupOnboardRequest({ group: 'g', namespace: 'ns' }), { group: 'g', namespace: 'ns', serviceAccount: undefined, tokenDurationMs: 3_600_000 });
    assert.throws(() => validateGroupOnboardRequest({ group: 'g', namespace: 'ns', serviceAccount: 'Bad_SA' }), /--service-account: "Bad_SA" must be a lower-case DNS name/);
  });
});
