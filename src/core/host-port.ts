// How an address and port are written (IPv6 in brackets: `[::1]:8080`), and which host a local
// client dials for a listener bound to a wildcard address (loopback). Pure.

/** `host:port`, or `[host]:port` for an IPv6 host. */
export function hostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The host a client on this machine dials for a listener on `listen` (0.0.0.0 and :: → 127.0.0.1). */
export function dialableHost(listen: string): string {
  return listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen;
}
