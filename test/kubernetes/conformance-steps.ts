// The conformance test's vocabulary: a step runs the same client operation against one API target
// and returns an observation (plain JSON) holding only what a client relies on; helpers that reduce
// client-node, kubectl and raw replies to such observations.
import { ApiException } from '@kubernetes/client-node';
import type { RunResult } from '../support/cli.js';
import type { ApiTarget, HttpReply } from './api-target.js';
import { statusView, type StatusView } from './conformance-compare.js';

export interface Step {
  name: string;
  run(t: ApiTarget): Promise<unknown>;
  /** Fields every server must answer (checked on both), so two equally wrong answers still fail. */
  expect?: unknown;
}

export const NS = 'conformance';

/** Code and body of a client-node call made with a *WithHttpInfo method (errors included). */
export async function viaClient(p: Promise<{ httpStatusCode: number; data: unknown }>): Promise<{ code: number; body: any }> {
  try {
    const r = await p;
    return { code: r.httpStatusCode, body: JSON.parse(JSON.stringify(r.data)) };
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    let body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {}
    }
    return { code: e.code, body };
  }
}

/** The StatusView of a client-node call. */
export async function clientStatus(p: Promise<{ httpStatusCode: number; data: unknown }>): Promise<StatusView> {
  const r = await viaClient(p);
  return statusView(r.code, r.body);
}

export const replyStatus = (r: HttpReply): StatusView => statusView(r.status, r.json);

/** An object's identity as a client sees it: kind, apiVersion, name, namespace. */
export function identity(o: any): Record<string, unknown> {
  return { kind: o?.kind, apiVersion: o?.apiVersion, name: o?.metadata?.name, namespace: o?.metadata?.namespace };
}

/** The metadata a server must fill in on create (present or not, never their values). */
export function serverFilled(o: any): Record<string, boolean> {
  const m = o?.metadata ?? {};
  return {
    uid: typeof m.uid === 'string' && m.uid.length > 0,
    resourceVersion: /^\d+$/.test(m.resourceVersion ?? ''),
    creationTimestamp: typeof m.creationTimestamp === 'string' || m.creationTimestamp instanceof Date,
    generationAbsentOrOne: m.generation === undefined || m.generation === 1,
  };
}

/** managedFields as (manager, operation, subresource) triples, sorted. */
export function managers(o: any): string[] {
  return ((o?.metadata?.managedFields ?? []) as any[]).map((f) => `${f.manager} ${f.operation}${f.subresource ? ` ${f.subresource}` : ''}`).sort();
}

/** Item names of a list reply (sorted), or its Status when the list failed. */
export function listNames(r: HttpReply): unknown {
  if (r.status !== 200) return replyStatus(r);
  return { kind: r.json.kind, names: (r.json.items as any[]).map((i) => i.metadata.name).sort() };
}

/**
 * What a user sees from kubectl: the exit code and the first stderr line, with the parts that
 * name a server (its address) removed.
 */
export function kubectlView(r: RunResult, withStdout = false): Record<string, unknown> {
  const err = r.stderr
    .split('\n')
    .filter((l) => l && !/^Warning: /.test(l))
    .map((l) => l.replace(/https:\/\/[\d.:[\]a-z]+/g, 'SERVER').trim());
  return { exit: r.code, stderr: err[0] ?? '', ...(withStdout ? { stdout: r.stdout.trim() } : {}) };
}

/** Header line of a `kubectl get` table, split into column names. */
export function tableHeader(stdout: string): string[] {
  return (stdout.split('\n')[0] ?? '').trim().split(/\s{2,}/);
}

/** Rows of a kubectl table as column → cell maps, cut at the header's column offsets (cells may be empty). */
export function tableRows(stdout: string): Record<string, string>[] {
  const [header, ...lines] = stdout.split('\n').filter((l) => l.trim() !== '');
  if (!header) return [];
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return lines.map((line) => Object.fromEntries(starts.map((c, i) => [c.name, line.slice(c.at, starts[i + 1]?.at ?? line.length).trim()])));
}

/** `kubectl explain` FIELDS section as "name <type>" lines (descriptions are free text). */
export function explainFields(stdout: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /^FIELDS:/.test(l));
  if (start < 0) return [`no FIELDS section: ${lines.slice(0, 3).join(' | ')}`];
  return lines
    .slice(start + 1)
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => l.trim().replace(/\s+/g, ' '));
}

/** Header of `kubectl explain` (KIND, VERSION, GROUP, FIELD lines). */
export function explainHeader(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => /^(GROUP|KIND|VERSION|FIELD|RESOURCE):/.test(l))
    .map((l) => l.replace(/\s+/g, ' ').trim());
}

/** Subset check: every field of `expected` is equal in `actual` (arrays compared whole). */
export function missingExpected(actual: unknown, expected: unknown, path = ''): string[] {
  if (expected === null || typeof expected !== 'object' || Array.isArray(expected)) {
    return JSON.stringify(actual) === JSON.stringify(expected) ? [] : [`${path || '(root)'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  const a = (actual ?? {}) as Record<string, unknown>;
  return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) => missingExpected(a[k], v, path ? `${path}.${k}` : k));
}
