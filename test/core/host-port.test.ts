// Addresses as every listener, client and table writes them (src/core/host-port.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dialableHost, hostPort } from '../../src/core/host-port.js';

test('host:port brackets an IPv6 host only', () => {
  assert.equal(hostPort('127.0.0.1', 8080), '127.0.0.1:8080');
  assert.equal(hostPort('::1', 8080), '[::1]:8080');
  assert.equal(hostPort('fd00::5', '443'), '[fd00::5]:443');
  assert.equal(hostPort('api.example', 6443), 'api.example:6443');
});

test('a wildcard listener is dialled on loopback; a specific address as it is', () => {
  assert.equal(dialableHost('0.0.0.0'), '127.0.0.1');
  assert.equal(dialableHost('::'), '127.0.0.1');
  assert.equal(dialableHost('198.18.0.7'), '198.18.0.7');
  assert.equal(dialableHost('::1'), '::1');
});
