// The capture plan: what is redirected where, and what is never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCapture, renderCommands } from '../../src/proxy-init/plan.js';

const base = { inboundPort: 4143, outboundPort: 4140, proxyUid: 2102, skipInboundPorts: [22], skipOutboundPorts: [], skipOutboundCidrs: [] };

test('inbound: skip ports first, then the workload ports go to the inbound port', () => {
  const plan = planCapture({ ...base, inboundPorts: [8080, 9090] });
  const inbound = plan.chains[0].rules.map((r) => r.join(' '));
  assert.match(inbound[0], /--dport 22 .* -j RETURN$/);
  assert.match(inbound[1], /--dports 8080,9090 .* -j REDIRECT --to-ports 4143$/);
});

test('outbound: the proxy user and loopback are exempt, everything else goes to the outbound port', () => {
  const plan = planCapture({ ...base, inboundPorts: 'all', skipOutboundPorts: [6443], skipOutboundCidrs: ['198.18.0.0/15'] });
  const out = plan.chains[1].rules.map((r) => r.join(' '));
  assert.match(out[0], /--uid-owner 2102 .* RETURN/);
  assert.match(out[1], /-o lo .* RETURN/);
  assert.match(out[2], /-d 198.18.0.0\/15 .* RETURN/);
  assert.match(out[3], /--dport 6443 .* RETURN/);
  assert.match(out.at(-1)!, /REDIRECT --to-ports 4140$/);
});

test('long port lists are split for multiport (at most 15 per rule)', () => {
  const many = Array.from({ length: 20 }, (_, i) => 1000 + i);
  const plan = planCapture({ ...base, inboundPorts: many });
  assert.equal(plan.chains[0].rules.length, 1 + 2);
});

test('dry-run commands quote the comments', () => {
  const cmds = renderCommands(planCapture({ ...base, inboundPorts: 'all' }));
  assert.ok(cmds.some((c) => c.includes("--comment 'outpost/proxy-init: to proxy inbound'")));
});

test('each family gets only its own skip networks (iptables IPv4, ip6tables IPv6)', () => {
  const o = { ...base, inboundPorts: 'all' as const, skipOutboundCidrs: ['198.18.0.0/15', '2001:2::/48'] };
  const v4 = planCapture(o, 4).chains[1].rules.map((r) => r.join(' '));
  const v6 = planCapture(o, 6).chains[1].rules.map((r) => r.join(' '));
  assert.ok(v4.some((r) => r.includes('-d 198.18.0.0/15')) && !v4.some((r) => r.includes('2001:2::/48')));
  assert.ok(v6.some((r) => r.includes('-d 2001:2::/48')) && !v6.some((r) => r.includes('198.18.0.0/15')));
  // Both families capture the same ports to the same proxy ports.
  assert.deepEqual(planCapture(o, 6).chains[0], planCapture(o, 4).chains[0]);
});

test('--redirect-dns: the app\'s DNS (UDP and TCP 53, loopback resolvers too) goes to the DNS port, the proxy\'s own does not', () => {
  const plan = planCapture({ ...base, inboundPorts: 'all', dnsPort: 4153 });
  const out = plan.chains[1].rules.map((r) => r.join(' '));
  assert.match(out[0], /--uid-owner 2102 .* RETURN/);
  assert.match(out[1], /-p udp --dport 53 .* REDIRECT --to-ports 4153$/);
  assert.match(out[2], /-p tcp --dport 53 .* REDIRECT --to-ports 4153$/);
  assert.match(out[3], /-o lo .* RETURN/, 'DNS is redirected before loopback is exempted (127.0.0.53 resolvers)');
  assert.ok(plan.jumps.some((j) => j.from === 'OUTPUT' && j.args.join(' ').startsWith('-p udp --dport 53')));
  assert.ok(!planCapture({ ...base, inboundPorts: 'all' }).jumps.some((j) => j.args.includes('udp')), 'no DNS rules unless asked');
});
