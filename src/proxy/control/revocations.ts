// The revocation client (docs/adr/0009): watches the policy service's Revocations stream and keeps
// the last deny list through control-plane outages (fail static). The proxy's TLS layers ask
// `isRevokedPeer(cert)` to refuse a peer whose certificate names a revoked workload's serverName.
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { certificateIsRevoked, type RevocationEntry } from '../../core/workloads/revocation.js';
import type { IdentitySource } from '../types.js';
import type { BackoffOptions } from './backoff.js';
import { ControlChannel, controlPlaneServerName } from './channel.js';
import type { RevocationList__Output } from '../../api/gen/policy.js';
import { serviceClient } from '../../api/load.js';
import { ResilientStream } from './stream.js';

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
  private readonly stream: ResilientStream<RevocationList__Output>;
  private closed = false;

  constructor(private readonly opts: RevocationsClientOptions) {
    this.stream = new ResilientStream<RevocationList__Output>({
      channel: opts.channel,
      service: serviceClient('outpost.policy.v1.Revocations'),
      description: 'policy WatchRevocations',
      clock: opts.clock,
      backoff: opts.backoff,
      log: opts.log,
      open: (client) => (client as unknown as { watchRevocations(req: object): grpc.ClientReadableStream<RevocationList__Output> }).watchRevocations({ workload: opts.workload ?? '' }),
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

  private apply(wire: RevocationList__Output): void {
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
