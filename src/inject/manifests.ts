// `outpost inject` / `uninject` over manifests: multi-document YAML (or JSON) and `List`s, finds the
// pod template of each workload kind, and rewrites it in place (comments elsewhere survive).
// Other kinds pass through unchanged. Pure: text in, text and a report out.
import { parseAllDocuments, type Document } from 'yaml';
import { INJECT_ANNOTATIONS } from './annotations.js';
import { injectPodTemplate, isInjected, type PodTemplate } from './pod.js';
import { uninjectPodTemplate } from './uninject.js';
import type { MeshSettings } from './mesh.js';

/** Where each kind keeps its pod template. */
export const POD_TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export type TransformMode = { action: 'inject'; manual: false } | { action: 'inject'; manual: true; mesh: MeshSettings } | { action: 'uninject' };

export interface ReportLine {
  kind: string;
  name: string;
  outcome: 'injected' | 'annotated' | 'uninjected' | 'skipped';
  detail?: string;
}

export interface TransformResult {
  output: string;
  report: ReportLine[];
  /** Bad input (unparseable YAML, invalid annotations): the command fails with these, one per line. */
  errors: string[];
}

type Obj = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> }; items?: unknown[] };

export function transformManifests(text: string, source: string, mode: TransformMode): TransformResult {
  const report: ReportLine[] = [];
  const errors: string[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { output: text, report, errors: [`${source}: not YAML`] };
  docs.forEach((doc, i) => {
    const where = `${source}${docs.length > 1 ? ` (document ${i + 1})` : ''}`;
    if (doc.errors.length > 0) {
      errors.push(`${where}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}`);
      return;
    }
    const obj = doc.toJS() as Obj | null;
    if (!obj || typeof obj !== 'object') return;
    if (obj.kind === 'List' || (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items))) {
      (obj.items ?? []).forEach((item, j) => transformObject(doc, ['items', j], item as Obj, `${where} item ${j + 1}`, mode, report, errors));
    } else transformObject(doc, [], obj, where, mode, report, errors);
  });
  if (errors.length > 0) return { output: '', report, errors };
  // A document that began with an explicit `---` prints it again; the others get one.
  const output = docs.map((d, i) => (i > 0 && !/^---/.test(d.toString()) ? '---\n' : '') + d.toString()).join('');
  return { output, report, errors };
}

function transformObject(doc: Document, at: (string | number)[], obj: Obj, where: string, mode: TransformMode, report: ReportLine[], errors: string[]): void {
  const kind = obj?.kind ?? '';
  const name = obj?.metadata?.name ?? '';
  const line = (outcome: ReportLine['outcome'], detail?: string): void => void report.push({ kind: kind.toLowerCase(), name, outcome, detail });
  if (kind === 'Namespace') {
    // Like `linkerd inject` on a namespace: every pod created in it from now on is injected.
    if (mode.action !== 'uninject') {
      doc.setIn([...at, 'metadata', 'annotations', INJECT_ANNOTATIONS[0]], 'enabled');
      return line('annotated');
    }
    const present = INJECT_ANNOTATIONS.filter((a) => obj.metadata?.annotations?.[a] !== undefined);
    for (const a of present) doc.deleteIn([...at, 'metadata', 'annotations', a]);
    return present.length ? line('uninjected') : line('skipped', 'not annotated');
  }
  const rel = POD_TEMPLATE_PATHS[kind];
  if (!rel) return line('skipped', `${kind || 'an object without kind'} has no pod template`);
  const path = [...at, ...rel];
  const template = (rel.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj) ?? {}) as PodTemplate;

  if (mode.action === 'uninject') {
    const { template: out, changed } = uninjectPodTemplate(template);
    if (!changed) return line('skipped', 'not injected');
    setTemplate(doc, path, out);
    return line('uninjected');
  }
  if (isInjected(template)) return line('skipped', 'already injected');
  if (!mode.manual) {
    const present = INJECT_ANNOTATIONS.filter((a) => template.metadata?.annotations?.[a] !== undefined);
    for (const a of new Set([INJECT_ANNOTATIONS[0], ...present])) doc.setIn([...path, 'metadata', 'annotations', a], 'enabled');
    return line('injected');
  }
  const annotated: PodTemplate = { ...template, metadata: { ...(template.metadata ?? {}), annotations: { ...(template.metadata?.annotations ?? {}), ...Object.fromEntries(INJECT_ANNOTATIONS.filter((a) => a === INJECT_ANNOTATIONS[0] || template.metadata?.annotations?.[a] !== undefined).map((a) => [a, 'enabled'])) } } };
  const namespace = obj.metadata?.namespace ?? 'default';
  const outcome = injectPodTemplate(annotated, { namespace, owner: kind === 'Pod' ? undefined : { kind, name } }, mode.mesh);
  switch (outcome.result) {
    case 'injected':
      setTemplate(doc, path, outcome.template);
      return line('injected');
    case 'invalid':
      errors.push(...outcome.errors.map((e) => `${where}: ${kind.toLowerCase()} "${name}": ${e}`));
      return;
    case 'already-injected':
      return line('skipped', 'already injected');
    case 'skipped':
      return line('skipped', outcome.reason);
  }
}

/** Writes only the fields that changed (one level below metadata and spec), so comments in the rest survive. */
function setTemplate(doc: Document, path: (string | number)[], template: PodTemplate): void {
  const before = (doc.getIn(path) === undefined ? {} : (doc.getIn(path) as { toJSON(): unknown }).toJSON?.() ?? {}) as PodTemplate;
  for (const key of ['metadata', 'spec'] as const) {
    const now = (template[key] ?? {}) as Record<string, unknown>;
    const was = (before[key] ?? {}) as Record<string, unknown>;
    for (const field of new Set([...Object.keys(was), ...Object.keys(now)])) {
      if (JSON.stringify(was[field]) === JSON.stringify(now[field])) continue;
      if (now[field] === undefined) doc.deleteIn([...path, key, field]);
      else doc.setIn([...path, key, field], doc.createNode(now[field]));
    }
  }
}

/** The report as `linkerd inject` prints it on stderr: `deployment "web" injected`. */
export function formatReport(report: ReportLine[]): string {
  return report.map((r) => `${r.kind} "${r.name}" ${r.outcome}${r.detail ? ` (${r.detail})` : ''}`).join('\n');
}
