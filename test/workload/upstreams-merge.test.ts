// Onboarding for clients: --upstream writes upstream listeners; a re-install (install.sh) or
// `onboard --renew` merges the fresh config into the installed one, keeping what the user added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { parseUpstreamFlag, checkUpstreamListeners } from '../../src/workload/upstreams.js';
import { mergeProxyConfig } from '../../src/workload/config-merge.js';
import { loadProxyConfig } from '../../src/proxy/config.js';
import { defaultLayout, renderProxyConfig } from '../../src/workload/bundle.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('--upstream SERVICE.NS:PORT[=LISTEN]', () => {
  assert.deepEqual(parseUpstreamFlag('postgres.hybrid-app:5432'), { service: 'postgres.hybrid-app.svc.cluster.local', port: 5432, listen: '127.0.0.1:5432' });
  assert.deepEqual(parseUpstreamFlag('redis.caching.svc.cluster.local:6379=16379'), { service: 'redis.caching.svc.cluster.local', port: 6379, listen: '127.0.0.1:16379' });
  assert.deepEqual(parseUpstreamFlag('web.shop:80=0.0.0.0:8080').listen, '0.0.0.0:8080');
  assert.throws(() => parseUpstreamFlag('postgres:5432'), /--upstream: "postgres:5432" does not name a Service as SERVICE\.NAMESPACE/);
  assert.throws(() => parseUpstreamFlag('postgres.hybrid-app'), /has no :PORT/);
  assert.throws(() => parseUpstreamFlag('postgres.hybrid-app:99999'), /not 1-65535/);
  assert.throws(() => parseUpstreamFlag('a.b:1=x:y'), /listens at "x:y"/);
  assert.throws(() => checkUpstreamListeners([parseUpstreamFlag('a.b:80'), parseUpstreamFlag('c.d:80')]), /would both listen at 127\.0\.0\.1:80/);
});

const endpoints = { identity: '198.18.0.1:8080', destination: '198.18.0.1:8086', policy: '198.18.0.1:8090', health: '198.18.0.1:8087' };
const req = { name: 'api-server', namespace: 'hybrid-app', inboundPort: 4143, ports: [], ip: '198.18.0.9' } as never;

test('the bundle config with --upstream loads in the proxy, with the DNS proxy on', () => {
  const layout = { ...defaultLayout({ inboundPort: 4143 }), upstreams: [parseUpstreamFlag('postgres.hybrid-app:5432')] };
  const dir = mkdtempSync(join(tmpdir(), 'outpost-up-'));
  writeFileSync(join(dir, 'c.yaml'), renderProxyConfig({ req, endpoints, layout }));
  const cfg = loadProxyConfig(join(dir, 'c.yaml'), {});
  assert.deepEqual(cfg.upstreams.map((u) => [u.authority, u.listen]), [['postgres.hybrid-app.svc.cluster.local:5432', { host: '127.0.0.1', port: 5432 }]]);
  assert.deepEqual(cfg.dns && [cfg.dns.host, cfg.dns.port], ['127.0.0.1', 4153]);
});

test('merge: control-plane settings from the new bundle, everything the user added kept, each change said', () => {
  const fresh = renderProxyConfig({ req, endpoints: { ...endpoints, destination: '198.18.0.2:8086' }, layout: { ...defaultLayout({ inboundPort: 4143 }), upstreams: [parseUpstreamFlag('redis.hybrid-app:6379')] } });
  const installed = parse(renderProxyConfig({ req, endpoints, layout: defaultLayout({ inboundPort: 4143 }) }));
  installed.upstreams = [{ service: 'postgres.hybrid-app.svc.cluster.local', port: 5432, listen: '127.0.0.1:5432', protocol: 'opaque' }];
  installed.log.level = 'debug';
  installed.timeouts = { connect: '2s' };
  const { text, changes } = mergeProxyConfig(JSON.stringify(installed), fresh);
  const merged = parse(text);
  assert.equal(merged.destination.endpoint, '198.18.0.2:8086');
  assert.deepEqual(merged.upstreams.map((u: { service: string }) => u.service), ['postgres.hybrid-app.svc.cluster.local', 'redis.hybrid-app.svc.cluster.local']);
  assert.equal(merged.log.level, 'debug');
  assert.deepEqual(merged.timeouts, { connect: '2s' });
  assert.deepEqual(changes.sort(), [
    'added upstream redis.hybrid-app.svc.cluster.local:6379',
    'kept log.level: debug (yours; the bundle has info)',
    'kept timeouts: {"connect":"2s"} (yours)',
    'kept upstream postgres.hybrid-app.svc.cluster.local:5432 (yours)',
    'updated destination.endpoint: 198.18.0.1:8086 -> 198.18.0.2:8086',
  ]);
  assert.match(text, /^# Outpost proxy configuration for ExternalWorkload hybrid-app\/api-server/);
  assert.throws(() => mergeProxyConfig('- a list', fresh, { installed: '/etc/outpost/proxy-config.yaml', fresh: 'new' }), /\/etc\/outpost\/proxy-config\.yaml: must be a YAML mapping/);
});

test('merge: upstreams the user added to a bundle without any are kept one by one', () => {
  const fresh = renderProxyConfig({ req, endpoints, layout: defaultLayout({ inboundPort: 4143 }) });
  const installed = parse(fresh);
  installed.upstreams = [{ service: 'postgres.hybrid-app.svc.cluster.local', port: 5432, listen: '127.0.0.1:15432' }];
  const { text, changes } = mergeProxyConfig(JSON.stringify(installed), fresh);
  assert.deepEqual(changes, ['kept upstream postgres.hybrid-app.svc.cluster.local:5432 (yours)']);
  assert.equal(parse(text).upstreams[0].listen, '127.0.0.1:15432');
});
