// One live request event as tap carries it (proto/outpost/tap.proto TapEvent): the proxy publishes
// these, the viz relays them. Shared here because the proxy and the control plane never import each other.
export interface TapEventFields {
  direction: 'inbound' | 'outbound';
  source: string;
  destination: string;
  sourceIdentity: string;
  destinationIdentity: string;
  method: string;
  authority: string;
  path: string;
  status: number;
  /** The gRPC status of a gRPC response (a failed call is still HTTP 200); undefined for plain HTTP. */
  grpcStatus?: number;
  latencyMs: number;
  timestampMs: number;
  destinationLabels: Record<string, string>;
  tls: boolean;
}
