// The one proto loader of the mesh contract: every gRPC client and server, in the proxy and in the
// control plane, gets its service from here, so both sides of each .proto decode and encode the
// messages as src/api/gen types them (docs/adr/0024-one-generated-mesh-contract.md).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '../core/proto-dir.js';
import { SERVICE_PROTOS, type ServiceName } from './gen/services.js';

/**
 * camelCase field names, enums by name, 64-bit integers as numbers (milliseconds since the epoch
 * fit), every absent field filled with its default (message fields with null), and each oneof's
 * name set to the member present. scripts/gen-api.ts writes the `__Output` types for exactly these.
 */
export const LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true } as const satisfies protoLoader.Options;

export type { ServiceName };

const packages = new Map<string, protoLoader.PackageDefinition>();
const clients = new Map<ServiceName, grpc.ServiceClientConstructor>();

/** The package definition of one contract .proto (a path under proto/), loaded once per process. */
export function loadContractProto(file: (typeof SERVICE_PROTOS)[ServiceName]): protoLoader.PackageDefinition {
  let def = packages.get(file);
  if (!def) {
    // Imports (outpost/http_route.proto, google/protobuf/struct.proto) resolve against proto/ and protobufjs's bundled types.
    def = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
    packages.set(file, def);
  }
  return def;
}

/** A service's methods (request/response serializers), for `server.addService`. */
export function serviceDefinition(name: ServiceName): grpc.ServiceDefinition {
  return loadContractProto(SERVICE_PROTOS[name])[name] as grpc.ServiceDefinition;
}

/** A service's client constructor: `new (serviceClient(name))(address, credentials, options)`. */
export function serviceClient(name: ServiceName): grpc.ServiceClientConstructor {
  let ctor = clients.get(name);
  if (!ctor) {
    ctor = grpc.makeClientConstructor(serviceDefinition(name), name);
    clients.set(name, ctor);
  }
  return ctor;
}
