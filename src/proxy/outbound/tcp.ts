// Outbound opaque TCP: a connection from the app is balanced to an endpoint and piped over mTLS
// (ALPN outpost.tcp/1 + transport header carrying the target port), or plain TCP when unmeshed.
import type { Socket } from 'node:net';
import type { Clock } from '../../core/clock.js';
import type { LogicalService, EndpointSlot } from './logical.js';
import { connectPeer, connectPlain, type ConnectDeps } from './connect.js';
import { pipeBoth } from '../transport/detect.js';
import { ALPN_TCP, encodeTransportHeader } from '../transport/header.js';
import { mayRetry } from './retry.js';

export function forwardOpaque(ctx: ConnectDeps & { clock: Clock }, svc: LogicalService, client: Socket, opaque: boolean, attempt = 1, exclude?: EndpointSlot): void {
  const snap = svc.snapshot;
  const slot = snap?.exists ? svc.balancer.pick(exclude) : undefined;
  if (!slot) {
    ctx.log.debug('no endpoint for TCP connection', { authority: svc.authority });
    client.destroy();
    return;
  }
  const ep = slot.target;
  const st = svc.state(slot);
  const start = ctx.clock.monotonicMs();
  svc.balancer.start(slot);
  const upstream = ep.identity ? connectPeer(ctx, ep, ALPN_TCP) : connectPlain(ctx, ep.address, ep.port, 'outbound', ep);
  const onFail = (err: Error) => {
    svc.balancer.finish(slot, ctx.clock.monotonicMs() - start, false);
    svc.balancer.ejectNow(slot);
    ctx.log.debug('endpoint connect failed', { authority: svc.authority, endpoint: st.targetAddr, reason: err.message });
    if (mayRetry(svc.balancer, attempt) && !client.destroyed) return forwardOpaque(ctx, svc, client, opaque, attempt + 1, slot);
    ctx.metrics.markFailed(client, err);
    client.destroy();
  };
  upstream.once('error', onFail);
  upstream.once(ep.identity ? 'secureConnect' : 'connect', () => {
    upstream.removeListener('error', onFail);
    svc.balancer.finish(slot, ctx.clock.monotonicMs() - start, true);
    if (ep.identity) upstream.write(encodeTransportHeader({ port: ep.port, opaque }));
    pipeBoth(client, upstream, ctx.config.timeouts.idleMs);
  });
  client.once('close', () => {
    if (upstream.connecting) upstream.destroy();
  });
}
