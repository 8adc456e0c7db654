// Where the control plane reaches a proxy's admin and tap listeners (pure): a proxy that listens on
// every address (0.0.0.0, ::) reports the wildcard, and the control plane substitutes the address
// the proxy's health stream comes from — the one address known to route back to that host.

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The reported "host:port" made reachable: a wildcard host becomes the peer's IP; a port 0 (not yet
 * bound when reported) or a wildcard with no peer known is dropped (undefined) rather than guessed.
 */
export function reachableAddress(reported: string | undefined, peer: string | undefined): string | undefined {
  if (!reported) return undefined;
  const sep = reported.lastIndexOf(':');
  if (sep < 0) return undefined;
  const host = reported.slice(0, sep);
  const port = Number(reported.slice(sep + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  if (!WILDCARD_HOSTS.has(host)) return reported;
  if (!peer) return undefined;
  return peer.includes(':') ? `[${peer}]:${port}` : `${peer}:${port}`;
}
