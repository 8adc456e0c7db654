// Loads proto/outpost/identity.proto (found by core/proto-dir: the repository's, or the packaged executable's).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoFile } from '../core/proto-dir.js';


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

export interface SignJwtSvidRequestMessage {
  audience: string[];
}

export interface JwtBundleMessage {
  trustDomain: string;
  jwks: Buffer;
}

export interface SignJwtSvidResponseMessage {
  token: string;
  spiffeId: string;
  expiresAtUnixMs: number;
  bundle: JwtBundleMessage;
}

let cached: grpc.ServiceDefinition | undefined;

export function identityServiceDefinition(): grpc.ServiceDefinition {
  if (!cached) {
    const def = protoLoader.loadSync(protoFile('identity'), { keepCase: false, longs: Number, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { outpost: { identity: { v1: { Identity: grpc.ServiceClientConstructor } } } };
    cached = pkg.outpost.identity.v1.Identity.service;
  }
  return cached;
}
