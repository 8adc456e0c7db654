// Loads the control-plane protos (proto/outpost/*.proto, found by core/proto-dir) once per file.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../../core/proto-dir.js';

/** Options shared by every client and test server of Outpost's own protos: camelCase fields, enum names, oneof names. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

const cache = new Map<string, grpc.GrpcObject>();

function loadOutpostProto(file: 'destination' | 'policy' | 'health'): grpc.GrpcObject {
  let pkg = cache.get(file);
  if (!pkg) {
    const definition = protoLoader.loadSync(`outpost/${file}.proto`, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] });
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
