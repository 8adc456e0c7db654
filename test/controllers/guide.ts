// Test helper: the guide's manifests (test/fixtures/guide), parsed, looked up by kind and name.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../support/paths.js';

export const GUIDE_DIR = join(REPO_ROOT, 'test', 'fixtures', 'guide');

export type Manifest = any;

export function guideManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const f of readdirSync(GUIDE_DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(GUIDE_DIR, f), 'utf8'))) {
      const obj = doc.toJS();
      if (obj && obj.kind) out.push(obj);
    }
  }
  return out;
}

export function guide(kind: string, name: string, namespace?: string): Manifest {
  const m = guideManifests().find((o) => o.kind === kind && o.metadata.name === name && (!namespace || o.metadata.namespace === namespace));
  if (!m) throw new Error(`no ${kind} ${name} in the guide fixtures`);
  return structuredClone(m);
}
