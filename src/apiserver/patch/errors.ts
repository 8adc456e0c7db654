// Typed patch errors the HTTP layer maps to Status bodies: BadRequest (400) for a patch that does
// not decode or is malformed, Invalid (422) for one that cannot be applied (a failed `test` op).
export type PatchErrorReason = 'BadRequest' | 'Invalid';

export class PatchError extends Error {
  constructor(
    readonly reason: PatchErrorReason,
    message: string,
    /** JSON pointer or dotted path of the offending part of the patch, when known. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PatchError';
  }

  /** The HTTP status this error maps to. */
  get code(): 400 | 422 {
    return this.reason === 'BadRequest' ? 400 : 422;
  }
}
