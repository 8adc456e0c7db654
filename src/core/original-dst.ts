// The original destination of a TCP connection that iptables redirected to us (SO_ORIGINAL_DST),
// read through the small native addon in native/original-dst (embedded in the packaged executable).
// Used by the proxy's transparent mode.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { OutpostError } from './errors.js';
import { packagedAddon } from './packaged.js';

type Addon = { getOriginalDst(fd: number): [string, number]; peerCredentials?(fd: number): [number, number, number] };
let addon: Addon | undefined;
let loadError: unknown;

/** The repository's build of native/original-dst (src/core or dist/core → ../../native), else the installed package. */
function requireAddon(): Addon {
  const req = createRequire(import.meta.url);
  try {
    return req('../../native/original-dst/build/Release/original_dst.node') as Addon;
  } catch {
    return req('outpost-original-dst') as Addon;
  }
}

/** The addon (shared with core/peer-credentials.ts); throws NOT_IMPLEMENTED, saying `needs`, when it is not built. */
export function nativeAddon(needs = 'transparent capture'): Addon {
  if (addon) return addon;
  if (loadError) throw loadError;
  try {
    addon = packagedAddon<Addon>('original_dst.node') ?? requireAddon();
    return addon;
  } catch (e) {
    loadError = new OutpostError('NOT_IMPLEMENTED', `${needs} needs the native addon outpost-original-dst, which is not built`, {
      hint: 'run `npm ci` (it builds native/original-dst with node-gyp; needs python3, make and g++)',
      cause: e,
    });
    throw loadError;
  }
}

const load = () => nativeAddon();

/** The [address, port] a redirected socket was originally sent to. Throws if the socket was not redirected. */
export function originalDestination(socket: Socket): { address: string; port: number } {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new OutpostError('INTERNAL', 'socket has no file descriptor');
  const [address, port] = load().getOriginalDst(fd);
  return { address, port };
}

const unmapped = (a: string | undefined) => (a?.startsWith('::ffff:') ? a.slice(7) : a);

/**
 * Where a connection accepted by a listener was originally sent, when the capture rules redirected
 * it there; undefined for a connection made to the listener itself. Throws when the addon is missing.
 */
export function redirectedDestination(socket: Socket): { address: string; port: number } | undefined {
  let dst: { address: string; port: number };
  try {
    dst = originalDestination(socket);
  } catch (e) {
    if (e instanceof OutpostError && e.code === 'NOT_IMPLEMENTED') throw e;
    return undefined; // ENOENT: no NAT entry, the app connected to the listener itself
  }
  const address = unmapped(dst.address)!;
  if (address === unmapped(socket.localAddress) && dst.port === socket.localPort) return undefined;
  return { address, port: dst.port };
}
