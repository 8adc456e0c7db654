// One mTLS channel to a control-plane service (destination, policy, health): the client certificate
// comes from an IdentitySource and the channel is rebuilt whenever the credentials rotate.
import * as grpc from '@grpc/grpc-js';
import { checkServerIdentity } from 'node:tls';
import type { Credentials, IdentitySource } from '../types.js';

/** The DNS name the control plane's certificate for a service carries: <service>.outpost.svc.cluster.local. */
export function controlPlaneServerName(service: 'destination' | 'policy' | 'identity' | 'health', namespace = 'outpost'): string {
  return `${service}.${namespace}.svc.cluster.local`;
}

export interface ControlChannelOptions {
  /** host:port of the service. */
  target: string;
  /** Name the server certificate must carry (also sent as SNI and :authority). */
  serverName: string;
  identity: IdentitySource;
  /** HTTP/2 keepalive ping interval; 0 disables. Default 20 s; a dead peer is noticed within keepalive + 10 s. */
  keepaliveMs?: number;
}

export type RotateListener = () => void;

/**
 * Holds the current grpc Channel. Stream owners ask for a client of their service with `client()`
 * (undefined until credentials exist) and reopen their streams when `onRotate` fires.
 */
export class ControlChannel {
  private channel: grpc.Channel | undefined;
  private credentialsKey = '';
  private readonly clients = new Map<grpc.ServiceClientConstructor, grpc.Client>();
  private readonly listeners = new Set<RotateListener>();
  private readonly unsubscribeIdentity: () => void;
  private closed = false;

  constructor(private readonly opts: ControlChannelOptions) {
    this.unsubscribeIdentity = opts.identity.subscribe((creds) => this.rebuild(creds));
    const creds = opts.identity.current();
    if (creds) this.rebuild(creds);
  }

  /** A client of `service` on the current channel, or undefined while the proxy holds no certificate. */
  client(service: grpc.ServiceClientConstructor): grpc.Client | undefined {
    if (this.closed || !this.channel) return undefined;
    let c = this.clients.get(service);
    if (!c) {
      c = new service(this.opts.target, grpc.credentials.createInsecure(), { channelOverride: this.channel });
      this.clients.set(service, c);
    }
    return c;
  }

  /** Called after the channel was rebuilt with new credentials (or first built). Returns an unsubscribe. */
  onRotate(listener: RotateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get target(): string {
    return this.opts.target;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeIdentity();
    this.listeners.clear();
    this.clients.clear();
    this.channel?.close();
    this.channel = undefined;
  }

  private rebuild(creds: Credentials): void {
    if (this.closed) return;
    const key = `${creds.certPem}\n${creds.chainPem}\n${creds.trustAnchorsPem}`;
    if (key === this.credentialsKey) return;
    this.credentialsKey = key;
    const old = this.channel;
    this.channel = new grpc.Channel(this.opts.target, channelCredentials(creds, this.opts.serverName), channelOptions(this.opts));
    this.clients.clear();
    for (const listener of [...this.listeners]) listener();
    // Listeners have moved their streams to the new channel; the old one finishes what it carries.
    old?.close();
  }
}

function channelCredentials(creds: Credentials, serverName: string): grpc.ChannelCredentials {
  const chain = creds.chainPem ? `${creds.certPem.trimEnd()}\n${creds.chainPem}` : creds.certPem;
  return grpc.credentials.createSsl(Buffer.from(creds.trustAnchorsPem), Buffer.from(creds.keyPem), Buffer.from(chain), {
    // Verify the expected service name whatever address (IP, localhost) the target uses.
    checkServerIdentity: (_host, cert) => checkServerIdentity(serverName, cert),
  });
}

function channelOptions(opts: ControlChannelOptions): grpc.ChannelOptions {
  const keepalive = opts.keepaliveMs ?? 20_000;
  return {
    'grpc.ssl_target_name_override': opts.serverName,
    'grpc.default_authority': opts.serverName,
    ...(keepalive > 0 ? { 'grpc.keepalive_time_ms': keepalive, 'grpc.keepalive_timeout_ms': 10_000 } : {}),
    // Reconnects of the underlying connection are grpc-js's own jittered backoff; streams add ours on top.
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 30_000,
  };
}
