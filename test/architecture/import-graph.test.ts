// The folder-level import graph of src/ (every import, re-export, import() and require(), type-only
// ones included), checked against the layers of lint/architecture.js: every folder has a layer, no
// import runs from a lower layer up to a higher one, and no folders import each other round a circle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../support/paths.js';
import { API_SERVER_ALLOWANCES, ENV_READERS, LAYERS, NODE_PRIVATE_MODULE_USERS } from '../../lint/architecture.js';

const SRC = join(REPO_ROOT, 'src');

/** Circles between folders that remain while issue 16's split lands; each must still exist (the test says when one is gone). */
const REMAINING_CIRCLES: string[][] = [];

interface Edge {
  from: string;
  to: string;
  /** "destination/watcher.ts -> policy/servers.js", the imports that make the edge. */
  imports: string[];
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const under = (p: string) => relative(SRC, p).split(sep).join('/');
const folderOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : undefined);

/** Every edge between two folders of src/. Files directly in src/ (none today) would be entry points above every layer. */
function folderGraph(): Map<string, Edge> {
  const edges = new Map<string, Edge>();
  for (const file of tsFiles(SRC)) {
    const from = folderOf(under(file));
    if (!from) continue;
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = under(resolve(dirname(file), fileName));
      const to = folderOf(target);
      if (!to || to === from || target.startsWith('..')) continue;
      const key = `${from} -> ${to}`;
      const edge = edges.get(key) ?? { from, to, imports: [] };
      edge.imports.push(`${under(file)} -> ${target}`);
      edges.set(key, edge);
    }
  }
  return edges;
}

const graph = folderGraph();
const layerOf = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
const layerName = (i: number) => LAYERS[i].join('/');

test('the graph is read from the sources (the proxy imports core, the CLI starts the control plane)', () => {
  assert.ok(graph.has('proxy -> core'), [...graph.keys()].join('\n'));
  assert.ok(graph.has('cli -> controlplane'));
  assert.ok(graph.get('controlplane -> apiserver')!.imports.some((i) => i.startsWith('controlplane/start.ts')));
});

test('every folder of src/ has exactly one layer in lint/architecture.js', () => {
  const folders = readdirSync(SRC).filter((f) => statSync(join(SRC, f)).isDirectory());
  const undeclared = folders.filter((f) => !layerOf.has(f));
  assert.deepEqual(undeclared, [], `place these folders in LAYERS (lint/architecture.js): ${undeclared.join(', ')}`);
  const declared = LAYERS.flat();
  assert.deepEqual(declared.filter((f, i) => declared.indexOf(f) !== i), [], 'a folder is in two layers');
});

test('no import runs from a lower layer up to a higher one', () => {
  const upward = [...graph.values()]
    .filter((e) => layerOf.has(e.from) && layerOf.has(e.to) && layerOf.get(e.from)! < layerOf.get(e.to)!)
    .map((e) => `${e.from} (layer ${layerName(layerOf.get(e.from)!)}) imports ${e.to} (layer ${layerName(layerOf.get(e.to)!)}):\n    ${e.imports.join('\n    ')}`);
  assert.deepEqual(upward, [], `imports from a lower layer up to a higher one:\n${upward.join('\n')}`);
});

/** The strongly connected groups of folders (Tarjan): each group of two or more is a circle. */
function circles(): string[][] {
  const next = new Map<string, string[]>();
  for (const e of graph.values()) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do group.push((w = stack.pop()!));
      while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no folders import each other, directly or round a circle', () => {
  const found = circles();
  const describe = (group: string[]) =>
    `${group.join(' <-> ')}:\n    ${[...graph.values()]
      .filter((e) => group.includes(e.from) && group.includes(e.to))
      .flatMap((e) => e.imports)
      .join('\n    ')}`;
  const unexpected = found.filter((g) => !REMAINING_CIRCLES.some((r) => r.join() === g.join()));
  assert.deepEqual(unexpected.map(describe), [], 'circles between folders');
  const gone = REMAINING_CIRCLES.filter((r) => !found.some((g) => g.join() === r.join()));
  assert.deepEqual(gone, [], 'this circle is gone: remove it from REMAINING_CIRCLES in test/architecture/import-graph.test.ts');
});

test('every allowance in lint/architecture.js is still needed (a stale one would hide the next violation)', () => {
  const stale: string[] = [];
  for (const a of API_SERVER_ALLOWANCES) {
    const used = graph.get(`${a.from} -> ${folderOf(`${a.to}/`)}`)?.imports.some((i) => i.split(' -> ')[1].startsWith(a.to));
    if (!used) stale.push(`API_SERVER_ALLOWANCES: ${a.from} -> ${a.to}`);
  }
  for (const r of ENV_READERS) if (!/\bprocess\.env\b/.test(readFileSync(join(REPO_ROOT, r.file), 'utf8'))) stale.push(`ENV_READERS: ${r.file}`);
  for (const u of NODE_PRIVATE_MODULE_USERS) if (!readFileSync(join(REPO_ROOT, u.file), 'utf8').includes(`'${u.module}'`)) stale.push(`NODE_PRIVATE_MODULE_USERS: ${u.file}`);
  assert.deepEqual(stale, [], 'remove these allowances from lint/architecture.js');
});
