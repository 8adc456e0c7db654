// Kubernetes Status error bodies: one error type (ApiError) carrying code, reason, message and
// details, and constructors for each reason the server answers with (wire spec §6.5).
import type { FieldCause } from '../resources/types.js';

/** A Status cause: field causes always name their field; others (ResourceVersionTooLarge) need not. */
export type StatusCause = FieldCause | { reason: string; message: string; field?: undefined };

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): StatusBody {
    const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) body.details = this.details;
    return body;
  }
}

/** "services" for core, "externalworkloads.workload.linkerd.io" for a group: how Kubernetes names a resource in messages. */
export function qualifiedResource(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');
export const forbidden = (message: string, d?: StatusDetails) => new ApiError(403, 'Forbidden', message, d);
export const notFoundPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
export const notFound = (group: string, plural: string, name: string) =>
  new ApiError(404, 'NotFound', `${qualifiedResource(group, plural)} "${name}" not found`, { name, group, kind: plural });
export const methodNotAllowed = () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
export const alreadyExists = (group: string, plural: string, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(group, plural)} "${name}" already exists`, { name, group, kind: plural });
export const conflict = (group: string, plural: string, name: string) =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(group, plural)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: plural },
  );
export const expired = (requested: number, oldest: number) => new ApiError(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
/** kube-apiserver's answer to a list or watch from a resourceVersion it has not reached (storage.NewTooLargeResourceVersionError). */
export const resourceVersionTooLarge = (requested: number, current: number) =>
  new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
/** A write whose metadata.uid is not the live object's: 409 as kube-apiserver's storage precondition check answers. */
export const uidPreconditionFailed = (group: string, plural: string, name: string, given: string, live: string) =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(group, plural)} "${name}": Precondition failed: UID in precondition: ${given}, UID in object meta: ${live}`,
    { name, group, kind: plural },
  );
/** Server-side apply: fields this manager sets that others own with another value (kube: 409 unless force=true). */
export function applyConflict(conflicts: { manager: string; field: string; using?: string }[]): ApiError {
  // An Update manager is named with the API version it wrote with: `"kubectl-edit" using v1`.
  const who = (c: { manager: string; using?: string }) => `"${c.manager}"${c.using ? ` using ${c.using}` : ''}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(who(c), [...(byManager.get(who(c)) ?? []), c.field]);
  const parts = [...byManager].map(([m, fields]) => (fields.length === 1 ? `conflict with ${m}: ${fields[0]}` : `conflicts with ${m}:\n${fields.map((f) => `- ${f}`).join('\n')}`));
  const n = conflicts.length;
  return new ApiError(409, 'Conflict', `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${parts.join('\n')}`, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${who(c)}`, field: c.field })),
  });
}
export const tooLarge = (limitBytes: number) =>
  new ApiError(413, 'RequestEntityTooLarge', `the request body is too large: the limit is ${limitBytes} bytes (${(limitBytes / 1048576).toFixed(0)} MiB)`);
export const unsupportedMediaType = (contentType: string, accepted: string[]) =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')} (got "${contentType || 'none'}")`);
export const tooManyRequests = (message: string) => new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds: 1 });
export const internalError = (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);

/** 422 Invalid: "Kind.group "name" is invalid: field: message, field: message". */
export function invalid(kind: string, group: string, name: string, causes: FieldCause[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  const text = causes.length > 1 ? `[${summary}]` : summary;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${text}`, { name, group, kind, causes });
}
