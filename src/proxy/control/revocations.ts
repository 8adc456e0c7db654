// The revocation client (docs/adr/0009): watches the policy service's Revocations stream and keeps
// the last deny list through control-plane outages (fail static). The proxy's TLS layers ask
// `isRevokedPeer(cert)` to refuse a peer whose certificate names a revoked workload's serverName.
import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { certificateIsRevoked, type RevocationEntry } from '../../core/workloads/revocation.js';
import type { IdentitySource } from '../types.js';
import type { BackoffOptions } from './backoff.js';
import { ControlChannel, controlPlaneServerName } from './channel.js';
import { revocationsService } from './protos.js';
import { ResilientStream } from './stream.js';

/** A message of WatchRevocations as proto-loader decodes it (camelCase fields). */
interface WireRevocationList {
  revocations?: { namespace?: string; workload?: string; identity?: string; serverName?: string; revokedAt?: string; reason?: string }[];
}

export type RevocationListener = (entries: readonly RevocationEntry[]) => void;

export interface RevocationsClientOptions {
  channel: ControlChannel;
  ownsChannel?: boolean;
  /** This proxy's workload, "namespace/name" (for the control plane's logs). */
  workload?: string;
  clock?: Clock;
  backoff?: BackoffOptions;
  log?: Logger;
}

export class RevocationsClient {
  private entries: readonly RevocationEntry[] = [];
  private serverNames: ReadonlySet<string> = new Set();
  private received = false;
  private readonly listeners = new Set<RevocationListener>();
  private readonly stream: ResilientStream<WireRevocationList>;
  private closed = false;

  constructor(private readonly opts: RevocationsClientOptions) {
    this.stream = new ResilientStream<WireRevocationList>({
      channel: opts.channel,
      service: revocationsService(),
      description: 'policy WatchRevocations',
      clock: opts.clock,
      backoff: opts.backoff,
      log: opts.log,
      open: (client) => (client as unknown as { watchRevocations(req: object): grpc.ClientReadableStream<WireRevocationList> }).watchRevocations({ workload: opts.workload ?? '' }),
      onMessage: (wire) => this.apply(wire),
      onDisconnect: (reason) => opts.log?.debug('revocation stream lost; keeping the last list', { reason, revoked: this.entries.length }),
      // A control plane without the service: nothing to watch, and retrying cannot help.
      isTerminal: (status) => status.code === grpc.status.UNIMPLEMENTED,
    });
  }

  /** True when the certificate (Node's peer certificate form) carries a revoked workload's serverName as a DNS SAN. */
  isRevokedPeer(cert: { subjectaltname?: string } | undefined): boolean {
    return certificateIsRevoked(cert, this.serverNames);
  }

  /**
   * True when `serverName` (an endpoint's discovered server name, the SNI) is revoked. Outbound checks
   * this before dialling: a resumed TLS session skips checkServerIdentity and shows no peer certificate.
   */
  isRevokedServerName(serverName: string | undefined): boolean {
    return Boolean(serverName) && this.serverNames.has(serverName!.toLowerCase());
  }

  /** The current deny list (empty until the first answer; kept through outages). */
  current(): readonly RevocationEntry[] {
    return this.entries;
  }

  /** True once a list arrived from the control plane. */
  get hasReceived(): boolean {
    return this.received;
  }

  /** Hears every new list (e.g. to close open connections of a peer revoked just now). Returns an unsubscribe. */
  subscribe(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.stream.close();
    if (this.opts.ownsChannel) this.opts.channel.close();
  }

  private apply(wire: WireRevocationList): void {
    const entries = (wire.revocations ?? [])
      .filter((r) => r.serverName)
      .map((r) => ({ namespace: r.namespace ?? '', workload: r.workload ?? '', identity: r.identity ?? '', serverName: r.serverName!.toLowerCase(), revokedAt: r.revokedAt ?? '', reason: r.reason ?? '' }));
    this.entries = entries;
    this.serverNames = new Set(entries.map((e) => e.serverName));
    this.received = true;
    this.opts.log?.info('revocation list updated', { revoked: entries.length });
    for (const l of [...this.listeners]) {
      try {
        l(entries);
      } catch (e) {
        this.opts.log?.warn('revocation listener failed', { error: (e as Error).message });
      }
    }
  }
}

/** A revocation client with its own mTLS channel to the policy service at `target` (host:port). */
export function createRevocationsClient(opts: { target: string; identity: IdentitySource; workload?: string; serverName?: string; clock?: Clock; backoff?: BackoffOptions; log?: Logger }): RevocationsClient {
  const channel = new ControlChannel({ target: opts.target, identity: opts.identity, serverName: opts.serverName ?? controlPlaneServerName('policy') });
  return new RevocationsClient({ ...opts, channel, ownsChannel: true });
}

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
