// Who is at the other end of a Unix socket: the pid, uid and gid the kernel recorded when the peer
// connected (SO_PEERCRED), read through the native addon in native/original-dst. The SPIFFE
// Workload API attests callers with it (docs/adr/0023).
import type { Socket } from 'node:net';
import { OutpostError } from './errors.js';
import { nativeAddon } from './original-dst.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export function peerCredentials(socket: Socket): PeerCredentials {
  const addon = nativeAddon('SPIFFE workload attestation');
  if (typeof addon.peerCredentials !== 'function') {
    throw new OutpostError('NOT_IMPLEMENTED', 'the native addon outpost-original-dst predates peerCredentials (SO_PEERCRED)', { hint: 'rebuild it: run `npm ci`' });
  }
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new OutpostError('INTERNAL', 'socket has no file descriptor');
  const [pid, uid, gid] = addon.peerCredentials(fd);
  return { pid, uid, gid };
}
