// Server-side printing: meta.k8s.io Table responses (lists, single objects, watch events) with
// Name first, the kind's columns, and Age (before the wide columns of built-in kinds) as kubectl's human duration ("17s", "5m", "2d3h").
import type { KubeObject } from '../store/types.js';
import type { ResourceType, TableColumn } from './resources/types.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: KubeObject;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface TableOptions {
  /** Milliseconds since the epoch (from a Clock), for Age and date columns. */
  now: number;
  resourceVersion?: string;
  continue?: string;
  /** What rows[].object holds; kubectl never asks, so the default is Metadata. */
  includeObject?: IncludeObject;
  /** 'v1' (default) or 'v1beta1', from the negotiated media type. */
  version?: 'v1' | 'v1beta1';
}

const NAME_COLUMN: TableColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. It is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.',
  priority: 0,
};

const AGE_COLUMN: TableColumnDefinition = {
  name: 'Age',
  type: 'string',
  format: '',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

/**
 * Where Age goes among the kind's columns: last for custom resources (as their CRDs list it), before
 * the wide (priority > 0) columns for built-in kinds, as kube-apiserver's printers place it.
 */
function ageIndex(rt: ResourceType): number {
  if (!rt.builtin) return rt.table.columns.length;
  const wide = rt.table.columns.findIndex((c) => c.priority > 0);
  return wide < 0 ? rt.table.columns.length : wide;
}

function withAge<T>(rt: ResourceType, cells: T[], age: T): T[] {
  const at = ageIndex(rt);
  return [...cells.slice(0, at), age, ...cells.slice(at)];
}

/** Name, the kind's columns, Age (see ageIndex). */
export function columnDefinitions(rt: ResourceType): TableColumnDefinition[] {
  return [NAME_COLUMN, ...withAge(rt, rt.table.columns.map(toDefinition), AGE_COLUMN)];
}

function toDefinition(c: TableColumn): TableColumnDefinition {
  return { name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority };
}

/**
 * Go's duration.HumanDuration as kubectl prints ages: seconds under 2 minutes, then minutes (with
 * seconds under 10 minutes), hours (with minutes under 8 hours), days (with hours under 8 days), years.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** The age of a timestamp, or <unknown> when it is absent or unparsable. */
export function ageOf(timestamp: unknown, now: number): string {
  if (typeof timestamp !== 'string' || !timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

/** meta.k8s.io PartialObjectMetadata of an object (managedFields left out, as kubectl never reads them). */
export function partialObjectMetadata(obj: KubeObject, version: 'v1' | 'v1beta1' = 'v1'): KubeObject {
  const { managedFields: _managed, ...metadata } = obj.metadata ?? {};
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata };
}

export function tableRow(rt: ResourceType, obj: KubeObject, opts: TableOptions): TableRow {
  const cells = rt.table.cells(obj).map((cell, i) => (rt.table.columns[i]?.type === 'date' ? ageOf(cell, opts.now) : (cell ?? '')));
  const row: TableRow = { cells: [obj.metadata?.name ?? '', ...withAge(rt, cells, ageOf(obj.metadata?.creationTimestamp, opts.now))] };
  const include = opts.includeObject ?? 'Metadata';
  if (include === 'Metadata') row.object = partialObjectMetadata(obj, opts.version);
  else if (include === 'Object') row.object = obj;
  return row;
}

/** A Table of a list (or of one object: pass [obj]). */
export function buildTable(rt: ResourceType, objects: KubeObject[], opts: TableOptions): Table {
  const metadata: Table['metadata'] = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version ?? 'v1'}`,
    metadata,
    columnDefinitions: columnDefinitions(rt),
    rows: objects.map((o) => tableRow(rt, o, opts)),
  };
}

/** A Table for a single GET: its resourceVersion is the object's. */
export function tableForObject(rt: ResourceType, obj: KubeObject, opts: TableOptions): Table {
  return buildTable(rt, [obj], { ...opts, resourceVersion: opts.resourceVersion ?? obj.metadata?.resourceVersion });
}

/** A watch event whose object is a one-row Table (kubectl get -w); column definitions on every event. */
export function tableWatchEvent(rt: ResourceType, type: string, obj: KubeObject, opts: TableOptions): { type: string; object: Table } {
  return { type, object: tableForObject(rt, obj, opts) };
}

/**
 * Which Table version an Accept header asks for (`application/json;as=Table;v=v1;g=meta.k8s.io,…`),
 * or undefined when it asks for plain objects. The first acceptable entry wins.
 */
export function negotiateTable(accept: string | undefined): 'v1' | 'v1beta1' | undefined {
  for (const entry of (accept ?? '').split(',')) {
    const [type, ...params] = entry.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim())));
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1') && (type === 'application/json' || type === '*/*')) return p.v;
    if (!p.as && (type === 'application/json' || type === '*/*' || type === 'application/*')) return undefined;
  }
  return undefined;
}
