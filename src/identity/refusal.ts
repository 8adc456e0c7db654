// Why the identity service refuses a request: a stable reason (metric label), the gRPC status a
// caller gets, and a message a human can act on. The one table mapping reasons to status codes.
// A message tells the caller only what it is entitled to know (docs/adr/0003); `internal` is logged.
import { status } from '@grpc/grpc-js';

export const REFUSAL_STATUS = {
  rate_limited: status.RESOURCE_EXHAUSTED,
  invalid_request: status.INVALID_ARGUMENT,
  no_credentials: status.UNAUTHENTICATED,
  token_invalid: status.UNAUTHENTICATED,
  token_not_service_account: status.UNAUTHENTICATED,
  certificate_invalid: status.UNAUTHENTICATED,
  namespace_mismatch: status.PERMISSION_DENIED,
  pod_mismatch: status.PERMISSION_DENIED,
  service_account_mismatch: status.PERMISSION_DENIED,
  service_account_missing: status.PERMISSION_DENIED,
  certificate_mismatch: status.PERMISSION_DENIED,
  workload_deleted: status.PERMISSION_DENIED,
  workload_revoked: status.PERMISSION_DENIED,
  workload_not_found: status.FAILED_PRECONDITION,
  workload_unbound: status.FAILED_PRECONDITION,
  group_not_found: status.FAILED_PRECONDITION,
  group_unbound: status.FAILED_PRECONDITION,
  workload_conflict: status.FAILED_PRECONDITION,
  identity_not_allowed: status.PERMISSION_DENIED,
  identity_taken: status.PERMISSION_DENIED,
  server_name_not_allowed: status.PERMISSION_DENIED,
  server_name_taken: status.PERMISSION_DENIED,
  token_used: status.PERMISSION_DENIED,
  identity_mismatch: status.INVALID_ARGUMENT,
  csr_invalid: status.INVALID_ARGUMENT,
  api_unavailable: status.UNAVAILABLE,
} as const;

export type RefusalReason = keyof typeof REFUSAL_STATUS;

/** Metadata keys sent with an identity_mismatch refusal, so that an entitled caller can learn its names. */
export const EXPECTED_IDENTITY_KEY = 'outpost-expected-identity';
export const EXPECTED_SERVER_NAME_KEY = 'outpost-expected-server-name';

export class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    /** Extra trailing metadata for the caller. */
    readonly details: Record<string, string> = {},
    /** For the server's log only: what the caller is not entitled to learn (another workload's names, its ServiceAccount). */
    readonly internal?: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }

  get grpcStatus(): number {
    return REFUSAL_STATUS[this.reason];
  }
}
