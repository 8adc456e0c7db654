// Destination GetProfile streams: what the control plane knows of an "ip:port" (a Service's cluster
// IP, or a meshed workload) or of a Service name (its cluster IP). One stream per target, shared.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../core/log.js';
import type { DestinationProfile } from '../types.js';
import type { Profile__Output } from '../../api/gen/destination.js';
import { serviceClient } from '../../api/load.js';
import { toResolvedEndpoint } from './endpoint-set.js';
import { ResilientStream } from './stream.js';
import type { SharedSource } from './shared-watches.js';
import type { ControlChannel } from './channel.js';
import type { BackoffOptions } from './backoff.js';
import type { Clock } from '../../core/clock.js';

export function toDestinationProfile(p: Profile__Output): DestinationProfile {
  return {
    opaque: !!p.opaqueProtocol,
    ...(p.fullyQualifiedName ? { service: p.fullyQualifiedName } : {}),
    ...(p.clusterIp ? { clusterIP: p.clusterIp } : {}),
    ...(p.endpoint?.address ? { endpoint: toResolvedEndpoint(p.endpoint) } : {}),
  };
}

/** What a stream of the Destination service needs (DestinationClientOptions extends it). */
export interface DestinationStreamOptions {
  channel: ControlChannel;
  /** The caller's "namespace/name", sent as contextToken. */
  contextToken?: string;
  clock?: Clock;
  backoff?: BackoffOptions;
  log?: Logger;
}

const NOTHING: DestinationProfile = { opaque: false };

export class ProfileSource implements SharedSource<DestinationProfile> {
  private value: DestinationProfile | undefined;
  readonly listeners = new Set<(p: DestinationProfile) => void>();
  private readonly stream: ResilientStream<Profile__Output>;

  constructor(target: string, opts: DestinationStreamOptions) {
    this.stream = new ResilientStream<Profile__Output>({
      channel: opts.channel,
      service: serviceClient('outpost.destination.v1.Destination'),
      description: `destination GetProfile ${target}`,
      clock: opts.clock,
      backoff: opts.backoff,
      log: opts.log,
      open: (client) =>
        (client as unknown as { getProfile(req: object): grpc.ClientReadableStream<Profile__Output> }).getProfile({ path: target, contextToken: opts.contextToken ?? '' }),
      onMessage: (p) => this.publish(toDestinationProfile(p), opts.log),
      // An invalid target (not ip:port nor a Service name) never becomes valid: nothing is known of it.
      isTerminal: (status) => status.code === 3 /* INVALID_ARGUMENT */,
      onTerminal: () => this.publish(NOTHING, opts.log),
    });
  }

  current(): DestinationProfile | undefined {
    return this.value;
  }

  close(): void {
    this.stream.close();
  }

  private publish(p: DestinationProfile, log: Logger | undefined): void {
    this.value = p;
    for (const l of [...this.listeners]) {
      try {
        l(p);
      } catch (e) {
        log?.warn('profile listener failed', { error: (e as Error).message });
      }
    }
  }
}
