// A grpc-js certificate provider fed from memory: servers built on it swap their certificate and
// the trust anchors they check clients against without restarting (new handshakes use the update).
import * as grpc from '@grpc/grpc-js';

export interface ServingMaterial {
  trustAnchorsPem: string;
  /** Leaf then intermediates. */
  certChainPem: string;
  keyPem: string;
}

/** Notifies asynchronously, as grpc-js expects. */
export class TlsMaterialProvider implements grpc.experimental.CertificateProvider {
  private ca = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private ids = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private latest?: ServingMaterial;

  update(m: ServingMaterial): void {
    this.latest = m;
    setImmediate(() => {
      for (const l of this.ca) l({ caCertificate: Buffer.from(m.trustAnchorsPem) });
      for (const l of this.ids) l({ certificate: Buffer.from(m.certChainPem), privateKey: Buffer.from(m.keyPem) });
    });
  }
  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.ca.add(l);
    const m = this.latest;
    if (m) setImmediate(() => l({ caCertificate: Buffer.from(m.trustAnchorsPem) }));
  }
  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.ca.delete(l);
  }
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.ids.add(l);
    const m = this.latest;
    if (m) setImmediate(() => l({ certificate: Buffer.from(m.certChainPem), privateKey: Buffer.from(m.keyPem) }));
  }
  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.ids.delete(l);
  }

  /** Server credentials that follow this provider; `requireClientCertificate` for mTLS-only services. */
  serverCredentials(requireClientCertificate: boolean): grpc.ServerCredentials {
    // Both arguments are the same provider: grpc-js 1.14 swaps their order internally.
    return grpc.experimental.createCertificateProviderServerCredentials(this, this, requireClientCertificate);
  }
}
