// A Server's proxyProtocol as the proxy's protocol. Pure. (Which Server selects a port: kube/servers.ts.)
import type { ProxyProtocol } from '../api/model.js';
import type { ServerObject } from '../kube/objects.js';

/** Server.spec.proxyProtocol ("unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS") to the proxy's protocol. */
export function proxyProtocolOf(server: ServerObject | undefined): ProxyProtocol {
  switch ((server?.spec?.proxyProtocol ?? '').toLowerCase()) {
    case 'opaque':
      return 'opaque';
    case 'http/1':
      return 'http1';
    case 'http/2':
      return 'http2';
    case 'grpc':
      return 'grpc';
    case 'tls':
      return 'tls';
    default:
      return 'detect';
  }
}
