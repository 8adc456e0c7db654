// The TLS side of revocation, kept apart from the revocations client (and its gRPC library) so the
// data plane loads it without gRPC: refuse or close inbound clients, and refuse outbound servers,
// whose certificate names a revoked workload.
import type { PeerCertificate, TLSSocket } from 'node:tls';

/** What the TLS hooks below need of a RevocationsClient (a fake in tests). */
export interface RevocationCheck {
  isRevokedPeer(cert: { subjectaltname?: string } | undefined): boolean;
  isRevokedServerName(serverName: string | undefined): boolean;
}

export const REVOKED_PEER_CODE = 'ERR_OUTPOST_PEER_REVOKED';

function revokedError(what: string): Error & { code: string } {
  const err = new Error(`${what} is revoked (outpost workload revoke)`) as Error & { code: string };
  err.code = REVOKED_PEER_CODE;
  return err;
}

/**
 * Inbound: on 'secureConnection', destroys the socket when the client certificate names a revoked
 * workload; returns true when it did (the caller counts it and stops). The server side still sees
 * the client certificate on resumed sessions, so this holds for them too.
 */
export function refuseRevokedClient(revocations: RevocationCheck | undefined, socket: TLSSocket): boolean {
  if (!revocations || !revocations.isRevokedPeer(socket.getPeerCertificate() as PeerCertificate)) return false;
  socket.destroy();
  return true;
}

/** Inbound: destroys the open connections whose client certificate was revoked since (call on every new list). */
export function closeRevokedClients(revocations: RevocationCheck, sockets: Iterable<TLSSocket>): number {
  let closed = 0;
  for (const socket of sockets) {
    if (!socket.destroyed && revocations.isRevokedPeer(socket.getPeerCertificate() as PeerCertificate)) {
      socket.destroy();
      closed++;
    }
  }
  return closed;
}

/**
 * Outbound: a checkServerIdentity that also refuses a server certificate naming a revoked workload.
 * Node skips checkServerIdentity on a resumed session, so also refuse before dialling with
 * `isRevokedServerName(ep.serverName)` and drop cached sessions when the list changes.
 */
export function withRevocationCheck(
  check: (host: string, cert: PeerCertificate) => Error | undefined,
  revocations: RevocationCheck | undefined,
): (host: string, cert: PeerCertificate) => Error | undefined {
  if (!revocations) return check;
  return (host, cert) => check(host, cert) ?? (revocations.isRevokedPeer(cert) ? revokedError(`the peer certificate for ${host}`) : undefined);
}

/** Outbound, before dialling: the error to fail the connection with when the endpoint's serverName is revoked. */
export function revokedEndpointError(revocations: RevocationCheck | undefined, serverName: string | undefined): Error | undefined {
  return revocations?.isRevokedServerName(serverName) ? revokedError(`endpoint ${serverName}`) : undefined;
}
