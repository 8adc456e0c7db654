// Loads proto/spiffe/workload.proto (found by core/proto-dir, like the outpost protos) and names
// the SPIFFE Workload API's messages as the proto loader presents them (camelCase fields, bytes as Buffers).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { spiffeWorkloadProtoFile } from '../../core/proto-dir.js';

export interface X509SvidMessage {
  spiffeId: string;
  x509Svid: Buffer;
  x509SvidKey: Buffer;
  bundle: Buffer;
  hint: string;
}

export interface X509SvidResponseMessage {
  svids: X509SvidMessage[];
  crl: Buffer[];
  federatedBundles: Record<string, Buffer>;
}

export interface X509BundlesResponseMessage {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}

let cached: grpc.ServiceDefinition | undefined;

export function spiffeWorkloadServiceDefinition(): grpc.ServiceDefinition {
  if (!cached) {
    const def = protoLoader.loadSync(spiffeWorkloadProtoFile(), { keepCase: false, longs: Number, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor };
    cached = pkg.SpiffeWorkloadAPI.service;
  }
  return cached;
}
