// Loads the control-plane protos (proto/outpost/*.proto) once, resolved relative to this module so
// the same path works from src/ under tsx and from dist/ after a build (both sit three levels deep).
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Options shared by every client and test server of Outpost's own protos: camelCase fields, enum names, oneof names. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

function protoRoot(): string {
  // src/proxy/control/protos.ts and dist/proxy/control/protos.js are both three levels under the repo root.
  const candidates = ['../../../proto/', '../../../../proto/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}outpost`)) ?? candidates[0];
}

const cache = new Map<string, grpc.GrpcObject>();

function loadOutpostProto(file: 'destination' | 'policy' | 'health'): grpc.GrpcObject {
  let pkg = cache.get(file);
  if (!pkg) {
    const definition = protoLoader.loadSync(`outpost/${file}.proto`, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
    pkg = grpc.loadPackageDefinition(definition);
    cache.set(file, pkg);
  }
  return pkg;
}

function service(file: 'destination' | 'policy' | 'health', name: string): grpc.ServiceClientConstructor {
  const v1 = ((loadOutpostProto(file).outpost as grpc.GrpcObject)[file] as grpc.GrpcObject).v1 as grpc.GrpcObject;
  return v1[name] as grpc.ServiceClientConstructor;
}

export const destinationService = (): grpc.ServiceClientConstructor => service('destination', 'Destination');
export const inboundPoliciesService = (): grpc.ServiceClientConstructor => service('policy', 'InboundPolicies');
export const workloadHealthService = (): grpc.ServiceClientConstructor => service('health', 'WorkloadHealth');
export const revocationsService = (): grpc.ServiceClientConstructor => service('policy', 'Revocations');
