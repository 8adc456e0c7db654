// The policy client: implements the proxy's PolicySource over InboundPolicies.GetPort, one stream per
// port (ref-counted). Until the first answer a port has no policy (traffic denied); afterwards the
// last answer is kept through control-plane outages (fail static) while the stream reconnects.
import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { IdentitySource, PolicySource } from '../types.js';
import type { InboundPortPolicy } from '../../api/model.js';
import type { BackoffOptions } from './backoff.js';
import { ControlChannel, controlPlaneServerName } from './channel.js';
import type { InboundServer__Output } from '../../api/gen/policy.js';
import { serviceClient } from '../../api/load.js';
import { toInboundPortPolicy } from './policy-map.js';
import { ResilientStream } from './stream.js';
import { SharedWatches, type SharedSource } from './shared-watches.js';

export interface PolicyClientOptions {
  channel: ControlChannel;
  ownsChannel?: boolean;
  /** The ExternalWorkload this proxy is, "namespace/name". */
  workload: string;
  clock?: Clock;
  backoff?: BackoffOptions;
  log?: Logger;
}

type Listener = (p: InboundPortPolicy) => void;
export type PortWatch = ReturnType<PolicySource['watchPort']>;

class PortPolicyWatch implements SharedSource<InboundPortPolicy> {
  policy: InboundPortPolicy | undefined;
  readonly listeners = new Set<Listener>();
  readonly stream: ResilientStream<InboundServer__Output>;

  constructor(port: number, opts: PolicyClientOptions) {
    this.stream = new ResilientStream<InboundServer__Output>({
      channel: opts.channel,
      service: serviceClient('outpost.policy.v1.InboundPolicies'),
      description: `policy GetPort ${opts.workload}:${port}`,
      clock: opts.clock,
      backoff: opts.backoff,
      log: opts.log,
      open: (client) => (client as unknown as { getPort(req: object): grpc.ClientReadableStream<InboundServer__Output> }).getPort({ workload: opts.workload, port }),
      onMessage: (wire) => {
        const policy = toInboundPortPolicy(wire);
        this.policy = policy;
        for (const listener of [...this.listeners]) {
          try {
            listener(policy);
          } catch (e) {
            opts.log?.warn('policy listener failed', { port, error: (e as Error).message });
          }
        }
      },
      onDisconnect: (reason) => opts.log?.info(this.policy ? 'policy stream lost; keeping last policy' : 'policy stream failed; port denied until the first answer', { port, reason }),
    });
  }

  current(): InboundPortPolicy | undefined {
    return this.policy;
  }

  close(): void {
    this.stream.close();
  }
}

export class PolicyClient implements PolicySource {
  private readonly ports: SharedWatches<number, InboundPortPolicy>;

  constructor(private readonly opts: PolicyClientOptions) {
    // After close a watch never answers: the port stays denied.
    this.ports = new SharedWatches((port) => new PortPolicyWatch(port, opts));
  }

  watchPort(port: number): PortWatch {
    return this.ports.acquire(port);
  }

  activeStreams(): number {
    return this.ports.size;
  }

  close(): void {
    this.ports.closeAll();
    if (this.opts.ownsChannel) this.opts.channel.close();
  }
}

/** A policy client with its own mTLS channel to `target` (host:port, default port 8090). */
export function createPolicyClient(opts: {
  target: string;
  identity: IdentitySource;
  workload: string;
  serverName?: string;
  clock?: Clock;
  backoff?: BackoffOptions;
  log?: Logger;
}): PolicyClient {
  const channel = new ControlChannel({ target: opts.target, identity: opts.identity, serverName: opts.serverName ?? controlPlaneServerName('policy') });
  return new PolicyClient({ ...opts, channel, ownsChannel: true });
}
