// Outpost's error type: every error a user can see carries a stable code, a message and a hint.
// The table of codes lives in error-codes.ts so that docs and tests can check it.
import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export class OutpostError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; field?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OutpostError';
    this.code = code;
    this.hint = opts.hint ?? ERROR_CODES[code]?.hint;
    this.field = opts.field;
  }

  /** One readable line for the CLI: "message (hint)". */
  toLine(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

export function isOutpostError(e: unknown): e is OutpostError {
  return e instanceof OutpostError;
}

/** Best one-line description of any thrown value, for CLI output and logs. */
export function describeError(e: unknown): string {
  if (e instanceof OutpostError) return e.toLine();
  if (e instanceof Error) return e.message;
  return String(e);
}
