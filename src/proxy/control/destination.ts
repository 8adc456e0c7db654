// The destination client: implements the proxy's Discovery seam over the Destination.Get stream.
// One stream per authority however many resolvers share it (ref-counted); fail static through outages.
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { DestinationProfile, Discovery, EndpointWatch, IdentitySource, ProfileWatch } from '../types.js';
import type { EndpointSnapshot } from '../../api/model.js';
import type { BackoffOptions } from './backoff.js';
import { ControlChannel, controlPlaneServerName } from './channel.js';
import type { Update__Output } from '../../api/gen/destination.js';
import { serviceClient } from '../../api/load.js';
import { applyEndpointUpdate, toEndpointSnapshot, type EndpointSetState } from './endpoint-set.js';
import { ResilientStream } from './stream.js';
import { SharedWatches, type SharedSource } from './shared-watches.js';
import { ProfileSource, type DestinationStreamOptions } from './profile.js';

export interface DestinationClientOptions extends DestinationStreamOptions {
  /** Close the channel with the client (true when the client created it). */
  ownsChannel?: boolean;
}

type Listener = (s: EndpointSnapshot) => void;

/** The shared state of one authority. */
class AuthorityWatch implements SharedSource<EndpointSnapshot> {
  state: EndpointSetState | undefined;
  snapshot: EndpointSnapshot | undefined;
  readonly listeners = new Set<Listener>();
  readonly stream: ResilientStream<Update__Output>;

  constructor(authority: string, opts: DestinationClientOptions) {
    this.stream = new ResilientStream<Update__Output>({
      channel: opts.channel,
      service: serviceClient('outpost.destination.v1.Destination'),
      description: `destination Get ${authority}`,
      clock: opts.clock,
      backoff: opts.backoff,
      log: opts.log,
      open: (client) =>
        (client as unknown as { get(req: object): grpc.ClientReadableStream<Update__Output> }).get({ path: authority, contextToken: opts.contextToken ?? '' }),
      onMessage: (update, first) => {
        this.state = applyEndpointUpdate(this.state, update, first);
        this.publish(toEndpointSnapshot(this.state), opts.log, authority);
      },
      // The destination service refuses what is not a service authority (e.g. an external host):
      // that answer does not change with retries, so it becomes a final "no such service".
      isTerminal: (status) => status.code === grpc.status.INVALID_ARGUMENT,
      onTerminal: () => this.publish({ exists: false, endpoints: [], labels: {} }, opts.log, authority),
      onDisconnect: (reason) => opts.log?.info('destination stream lost; keeping last endpoints', { authority, reason, endpoints: this.snapshot?.endpoints.length ?? 0 }),
    });
  }

  current(): EndpointSnapshot | undefined {
    return this.snapshot;
  }

  close(): void {
    this.stream.close();
  }

  private publish(snapshot: EndpointSnapshot, log: Logger | undefined, authority: string): void {
    this.snapshot = snapshot;
    for (const listener of [...this.listeners]) {
      try {
        listener(snapshot);
      } catch (e) {
        log?.warn('endpoint listener failed', { authority, error: (e as Error).message });
      }
    }
  }
}

export class DestinationClient implements Discovery {
  private readonly watches: SharedWatches<string, EndpointSnapshot>;
  private readonly profiles: SharedWatches<string, DestinationProfile>;

  constructor(private readonly opts: DestinationClientOptions) {
    this.watches = new SharedWatches((authority) => new AuthorityWatch(authority, opts));
    this.profiles = new SharedWatches((target) => new ProfileSource(target, opts));
  }

  resolve(authority: string): EndpointWatch {
    return this.watches.acquire(authority.trim().toLowerCase());
  }

  profile(target: string): ProfileWatch {
    return this.profiles.acquire(target.trim().toLowerCase());
  }

  /** Number of distinct authorities with an open stream (for metrics and tests). */
  activeStreams(): number {
    return this.watches.size;
  }

  close(): void {
    this.watches.closeAll();
    this.profiles.closeAll();
    if (this.opts.ownsChannel) this.opts.channel.close();
  }
}

/** A destination client with its own mTLS channel to `target` (host:port, default port 8086). */
export function createDestinationClient(opts: {
  target: string;
  identity: IdentitySource;
  serverName?: string;
  contextToken?: string;
  clock?: Clock;
  backoff?: BackoffOptions;
  log?: Logger;
}): DestinationClient {
  const channel = new ControlChannel({ target: opts.target, identity: opts.identity, serverName: opts.serverName ?? controlPlaneServerName('destination') });
  return new DestinationClient({ ...opts, channel, ownsChannel: true });
}
