// The IP of a gRPC peer as grpc-js reports it, for logs, auto-registration and the health server.

/** "1.2.3.4:5", "ipv4:1.2.3.4:5", "[::1]:5", "ipv6:[::ffff:1.2.3.4]:5" → the IP; undefined for none or a unix socket. */
export function peerIp(peer: string | undefined): string | undefined {
  if (!peer) return undefined;
  const p = peer.replace(/^ipv[46]:/, '');
  const host = p.startsWith('[') ? p.slice(1, p.indexOf(']')) : p.slice(0, p.lastIndexOf(':') < 0 ? undefined : p.lastIndexOf(':'));
  if (!host || host.startsWith('unix')) return undefined;
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}
