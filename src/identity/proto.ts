// Loads proto/outpost/identity.proto (resolved from this module, so it works from src/ and dist/).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const IDENTITY_PROTO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto', 'outpost', 'identity.proto');

export interface CertifyRequestMessage {
  identity: string;
  token: Buffer;
  certificateSigningRequest: Buffer;
  workload: string;
}

export interface CertifyResponseMessage {
  leafCertificate: Buffer;
  intermediateCertificates: Buffer[];
  validUntilUnixMs: number;
}

let cached: grpc.ServiceDefinition | undefined;

export function identityServiceDefinition(): grpc.ServiceDefinition {
  if (!cached) {
    const def = protoLoader.loadSync(IDENTITY_PROTO, { keepCase: false, longs: Number, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { outpost: { identity: { v1: { Identity: grpc.ServiceClientConstructor } } } };
    cached = pkg.outpost.identity.v1.Identity.service;
  }
  return cached;
}
