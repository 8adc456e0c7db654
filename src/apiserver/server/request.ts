// Reading and decoding request bodies (size limit, JSON, YAML, k8s protobuf envelope) and writing
// JSON replies. Every failure here is an ApiError, so a bad request never takes the server down.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, resourceVersionTooLarge, tooLarge } from './status.js';

/** Largest request body accepted, like kube-apiserver's 3 MiB limit on object writes. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Past this many bytes we stop draining an oversized body and close the connection. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** Reads the whole body, failing with 413 (naming the limit) when it exceeds limitBytes. */
export function readBody(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    let size = 0;
    let over = declared > limitBytes;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) over = true;
      if (over) {
        chunks.length = 0;
        if (size > DRAIN_LIMIT_BYTES) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(tooLarge(limitBytes)) : resolve(Buffer.concat(chunks))));
    req.on('error', (e) => reject(over ? tooLarge(limitBytes) : badRequest(`error reading the request body: ${e.message}`)));
  });
}

/** The media type of a Content-Type or Accept entry, lower-cased, without parameters. */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** Decodes a JSON or YAML object body. Protobuf is handled by the caller (it needs the kind). */
export function parseObjectBody(body: Buffer, mediaType: string): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty; an object was expected');
  let value: unknown;
  if (mediaType.includes('yaml')) {
    try {
      value = parseYaml(text);
    } catch (e) {
      throw badRequest(`the request body is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  } else {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
    }
  }
  return value;
}

/** A body that must be a JSON object (not an array, string, number or null). */
export function requireObject(value: unknown, what = 'the request body'): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError, headers: Record<string, string | string[]> = {}): void {
  sendJson(res, err.code, err.toStatus(), err.code === 429 ? { 'Retry-After': '1', ...headers } : headers);
}

/** Formats warnings as `Warning: 299 - "text"` headers, which kubectl prints on stderr. */
export function warningHeaders(warnings: string[]): Record<string, string[]> {
  if (warnings.length === 0) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) };
}

/**
 * A boolean query parameter as kube-apiserver reads it (apimachinery's Convert_Slice_string_To_bool):
 * absent, "0" and "false" in any case are false; any other value, the empty one included, is true.
 * So `?watch=True` (the Python client) watches, as it does against Kubernetes.
 */
export function queryFlag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/** Accept asks for a server-side Table (kubectl get). */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');
}

/** Accept asks for PartialObjectMetadata (metadata-only clients). */
export function wantsMetadataOnly(accept: string | undefined): boolean {
  return /as=PartialObjectMetadata/.test(accept ?? '');
}

/**
 * The `resourceVersion` of a list or watch: undefined when absent or empty, else a non-negative
 * integer (400 otherwise). One the store has not reached is refused at once with kube-apiserver's
 * "Too large resource version" (504, cause ResourceVersionTooLarge): the embedded store has no
 * cache lagging behind it, so a future revision is never coming, and a watch would wait forever.
 */
export function parseResourceVersion(q: URLSearchParams, currentRevision: number): number | undefined {
  const rv = q.get('resourceVersion');
  if (rv === null || rv === '') return undefined;
  if (!/^\d+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  const n = Number(rv);
  if (n > currentRevision) throw resourceVersionTooLarge(n, currentRevision);
  return n;
}
