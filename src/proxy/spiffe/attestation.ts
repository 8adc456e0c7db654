// Pure: which callers of the SPIFFE Workload API receive the proxy's SVID. A caller is attested by
// the uid the kernel recorded on its Unix socket connection (SO_PEERCRED): the proxy's own uid and
// the uids in spiffe.allowedUids are served, everyone else is refused (docs/adr/0023).
import type { PeerCredentials } from '../../core/peer-credentials.js';

export interface AttestationPolicy {
  ownUid: number;
  allowedUids: number[];
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

export function attest(peer: PeerCredentials | undefined, policy: AttestationPolicy): Verdict {
  if (!peer) return { allowed: false, reason: 'the caller could not be attested (no peer credentials on the connection)' };
  if (peer.uid === policy.ownUid || policy.allowedUids.includes(peer.uid)) return { allowed: true };
  return { allowed: false, reason: `uid ${peer.uid} is not allowed an identity (spiffe.allowedUids: ${policy.allowedUids.length ? policy.allowedUids.join(', ') : 'none'}; the proxy runs as uid ${policy.ownUid})` };
}
