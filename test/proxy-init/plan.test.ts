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
