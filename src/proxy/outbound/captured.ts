// Connections the capture rules (outpost proxy-init) redirected to the outbound port, routed by
// their original destination (SO_ORIGINAL_DST): a Service's cluster IP goes to that Service
// (discovery, balancing, mTLS), a meshed workload's address over mTLS to that workload, and
// anything else — a host outside the mesh — is forwarded, unchanged, to where the app sent it.
import type { Socket } from 'node:net';
import type { ResolvedEndpoint } from '../../api/model.js';
import { connectPeer, connectPlain, connectUnmeshed, type ConnectDeps } from './connect.js';
import { pipeBoth } from '../transport/detect.js';
import { ALPN_TCP, encodeTransportHeader } from '../transport/header.js';

/** Straight to a meshed workload (the app dialled its address): mTLS, the port in the transport header. */
export function forwardToEndpoint(ctx: ConnectDeps, ep: ResolvedEndpoint, client: Socket, opaque: boolean): void {
  const upstream = ep.identity ? connectPeer(ctx, ep, ALPN_TCP) : connectPlain(ctx, ep.address, ep.port, 'outbound', ep);
  connectThenPipe(ctx, client, upstream, ep.identity ? 'secureConnect' : 'connect', () => {
    if (ep.identity) upstream.write(encodeTransportHeader({ port: ep.port, opaque }));
  });
}

/** Outside the mesh: plain TCP to the original destination, bytes unchanged. */
export function forwardUnmeshed(ctx: ConnectDeps, client: Socket, address: string, port: number): void {
  connectThenPipe(ctx, client, connectUnmeshed(ctx, address, port), 'connect');
}

function connectThenPipe(ctx: ConnectDeps, client: Socket, upstream: Socket, event: string, onConnected?: () => void): void {
  const onFail = (err: Error) => {
    ctx.log.debug('captured connection: connect failed', { reason: err.message });
    ctx.metrics.markFailed(client, err);
    client.destroy();
  };
  upstream.once('error', onFail);
  upstream.once(event, () => {
    upstream.removeListener('error', onFail);
    onConnected?.();
    pipeBoth(client, upstream, ctx.config.timeouts.idleMs);
  });
  client.once('close', () => {
    if (upstream.connecting) upstream.destroy();
  });
}
