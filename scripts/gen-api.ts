// Generates src/api/gen/*.ts from proto/ (`npm run gen:api`): for each .proto, its enums as string
// unions and each message twice, as a sender writes it (`X`, every field optional) and as a receiver
// gets it from src/api/load.ts (`X__Output`: camelCase, enum names, 64-bit as numbers, defaults
// filled, message fields null when absent, a oneof's name set to its present member). Pure text
// from protobufjs reflection, so test/api can regenerate into a temp dir and compare.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** The .proto files of the mesh contract, relative to proto/, and the module each becomes. */
export function protoFiles(protoDir: string): { proto: string; module: string }[] {
  const outpost = readdirSync(join(protoDir, 'outpost'))
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => ({ proto: `outpost/${f}`, module: f.replace(/\.proto$/, '').replace(/_/g, '-') }));
  return [...outpost, { proto: 'spiffe/workload.proto', module: 'spiffe-workload' }];
}

const SCALARS: Record<string, { input: string; output: string }> = {
  string: { input: 'string', output: 'string' },
  bool: { input: 'boolean', output: 'boolean' },
  bytes: { input: 'Uint8Array', output: 'Buffer' },
  double: { input: 'number', output: 'number' },
  float: { input: 'number', output: 'number' },
};
for (const t of ['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']) {
  SCALARS[t] = { input: 'number', output: 'number' };
}

/** A type's name in TypeScript: nested messages joined with "_" (Authn.Unauthenticated → Authn_Unauthenticated). */
function tsName(t: protobuf.ReflectionObject): string {
  const parts: string[] = [];
  for (let o: protobuf.ReflectionObject | null = t; o && !(o instanceof protobuf.Namespace && !(o instanceof protobuf.Type)); o = o.parent) {
    parts.unshift(o.name);
  }
  return parts.join('_');
}

/** A JSDoc block of the proto's comment (if any) then `line`. */
function doc(comment: string | null | undefined, indent: string, line?: string): string {
  const lines = [...(comment ? comment.split('\n').map((l) => l.trim().replace(/\*\//g, '* /')) : []), ...(line ? [line] : [])];
  if (lines.length === 0) return '';
  return lines.length === 1 ? `${indent}/** ${lines[0]} */\n` : `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

function allTypes(ns: protobuf.NamespaceBase): (protobuf.Type | protobuf.Enum)[] {
  const out: (protobuf.Type | protobuf.Enum)[] = [];
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) out.push(o, ...allTypes(o));
    else if (o instanceof protobuf.Enum) out.push(o);
    else if (o instanceof protobuf.Namespace && !(o instanceof protobuf.Service)) out.push(...allTypes(o));
  }
  return out;
}

function allServices(ns: protobuf.NamespaceBase): protobuf.Service[] {
  const out: protobuf.Service[] = [];
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Service) out.push(o);
    else if (o instanceof protobuf.Namespace && !(o instanceof protobuf.Type)) out.push(...allServices(o));
  }
  return out;
}

/** Parses every contract proto with the field casing the loader uses (camelCase). */
export function loadRoot(protoDir: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoDir, target);
  root.loadSync(protoFiles(protoDir).map((f) => f.proto), { keepCase: false, alternateCommentMode: true });
  root.resolveAll();
  return root;
}

/** The contract proto declaring a type, or GOOGLE for protobuf's well-known types (google.protobuf.Struct). */
const GOOGLE = 'google/protobuf';
function protoOf(protoDir: string, t: protobuf.ReflectionObject): string {
  if (t.fullName.startsWith('.google.protobuf.')) return GOOGLE;
  return (t.filename ?? '').slice(resolve(protoDir).length + 1);
}

/** One field's TypeScript type, as sent ('input') or as received ('output'). */
function fieldType(f: protobuf.Field, side: 'input' | 'output', ref: (t: protobuf.ReflectionObject) => string): string {
  const value = (() => {
    if (f.resolvedType instanceof protobuf.Enum) return ref(f.resolvedType);
    if (f.resolvedType instanceof protobuf.Type) return ref(f.resolvedType) + (side === 'output' ? '__Output' : '');
    const s = SCALARS[f.type];
    if (!s) throw new Error(`${f.fullName}: unsupported type ${f.type}`);
    return s[side];
  })();
  if (f.map) return `Record<string, ${value}>`;
  if (f.repeated) return `${value}[]`;
  if (f.resolvedType instanceof protobuf.Type) return `${value} | null`;
  return value;
}

function emitMessage(t: protobuf.Type, ref: (t: protobuf.ReflectionObject) => string): string {
  const name = tsName(t);
  const real = t.fieldsArray;
  let out = '';
  if (real.length === 0) {
    out += `${doc(t.comment, '', `${t.fullName.slice(1)} (no fields).`)}export type ${name} = Record<string, never>;\n`;
    out += `export type ${name}__Output = Record<string, never>;\n`;
    return out;
  }
  const plain = real.filter((f) => !f.partOf);
  const senderDoc = `${t.fullName.slice(1)}, as a sender writes it: an absent field is its proto3 default${t.oneofsArray.length ? '; exactly one member of each oneof' : ''}.`;
  const fields = plain.map((f) => `${doc(f.comment, '  ')}  ${f.name}?: ${fieldType(f, 'input', ref)};\n`).join('');
  if (t.oneofsArray.length === 0) {
    out += `${doc(t.comment, '', senderDoc)}export interface ${name} {\n${fields}}\n`;
  } else {
    // A oneof member is given alone (its message, not null), so a sender's object narrows with `in`.
    const unions = t.oneofsArray.map(
      (o) => `(\n${o.fieldsArray.map((f) => `  | {\n${doc(f.comment, '      ')}      ${f.name}: ${fieldType(f, 'input', ref).replace(/ \| null$/, '')};\n    }`).join('\n')}\n)`,
    );
    out += `${doc(t.comment, '', senderDoc)}export type ${name} = ${[...(plain.length ? [`{\n${fields}}`] : []), ...unions].join(' & ')};\n`;
  }
  out += `/** ${t.fullName.slice(1)}, as src/api/load.ts decodes it. */\nexport interface ${name}__Output {\n`;
  for (const f of real) {
    const optional = f.partOf ? '?' : '';
    const ty = f.partOf ? fieldType(f, 'output', ref).replace(/ \| null$/, '') : fieldType(f, 'output', ref);
    out += `${doc(f.comment, '  ')}  ${f.name}${optional}: ${ty};\n`;
  }
  for (const o of t.oneofsArray) {
    out += `  /** Which member of the oneof is set (absent when none is). */\n  ${o.name}?: ${o.fieldsArray.map((f) => `'${f.name}'`).join(' | ')};\n`;
  }
  out += `}\n`;
  return out;
}

function emitEnum(e: protobuf.Enum): string {
  const names = Object.keys(e.values);
  const values = names.filter((n) => e.comments[n]).map((n) => `${n}: ${e.comments[n]}`);
  const comment = [e.comment, `${e.fullName.slice(1)} (enum names, as the loader decodes them).`, ...values].filter(Boolean).join('\n');
  return `${doc(comment, '')}export type ${tsName(e)} = ${names.map((n) => `'${n}'`).join(' | ')};\n`;
}

/** The generated modules, file name → content. */
export function generate(protoDir: string): Map<string, string> {
  const root = loadRoot(protoDir);
  const files = [...protoFiles(protoDir), { proto: GOOGLE, module: 'google-protobuf' }];
  const moduleOf = new Map(files.map((f) => [f.proto, f.module]));
  const types = allTypes(root);
  const out = new Map<string, string>();
  for (const file of files) {
    const local = types.filter((t) => protoOf(protoDir, t) === file.proto);
    const localNames = new Set(local.map(tsName));
    const imports = new Map<string, Set<string>>();
    const ref = (t: protobuf.ReflectionObject): string => {
      const name = tsName(t);
      const from = protoOf(protoDir, t);
      if (from !== file.proto) {
        if (localNames.has(name)) throw new Error(`${file.proto}: imported ${name} clashes with a local type`);
        const mod = moduleOf.get(from);
        if (!mod) throw new Error(`${file.proto}: ${name} comes from ${from}, not a contract proto`);
        const set = imports.get(mod) ?? new Set<string>();
        set.add(name);
        if (t instanceof protobuf.Type) set.add(`${name}__Output`);
        imports.set(mod, set);
      }
      return name;
    };
    const body = local.map((t) => (t instanceof protobuf.Enum ? emitEnum(t) : emitMessage(t, ref))).join('\n');
    let text =
      file.proto === GOOGLE
        ? `// Generated by scripts/gen-api.ts: the protobuf well-known types the contract uses (google.protobuf.Struct\n// in spiffe/workload.proto), as protobufjs bundles them. Do not edit: run \`npm run gen:api\`.\n`
        : `// Generated by scripts/gen-api.ts from proto/${file.proto}: its messages and enums as the mesh\n// contract's TypeScript types. Do not edit: change the .proto and run \`npm run gen:api\`.\n`;
    for (const [mod, names] of [...imports].sort(([a], [b]) => a.localeCompare(b))) {
      text += `import type { ${[...names].sort().join(', ')} } from './${mod}.js';\n`;
    }
    out.set(`${file.module}.ts`, `${text}\n${body}`);
  }
  const services = allServices(root).map((s) => [s.fullName.slice(1), protoOf(protoDir, s)] as const);
  let svc = `// Generated by scripts/gen-api.ts: every gRPC service of the mesh contract and the .proto (under\n`;
  svc += `// proto/) that declares it, for src/api/load.ts. Do not edit: run \`npm run gen:api\`.\n\n`;
  svc += `export const SERVICE_PROTOS = {\n${services.map(([n, f]) => `  '${n}': '${f}',\n`).join('')}} as const;\n\n`;
  svc += `export type ServiceName = keyof typeof SERVICE_PROTOS;\n`;
  out.set('services.ts', svc);
  return out;
}

/** Writes the modules generated from `protoDir` into `outDir`, removing files it no longer writes. */
export function writeGenerated(protoDir: string, outDir: string): void {
  const files = generate(protoDir);
  mkdirSync(outDir, { recursive: true });
  for (const stale of readdirSync(outDir)) if (!files.has(stale)) rmSync(join(outDir, stale));
  for (const [name, text] of files) writeFileSync(join(outDir, name), text);
}

function main(): void {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const outIdx = process.argv.indexOf('--out');
  writeGenerated(join(repo, 'proto'), outIdx > 0 ? resolve(process.argv[outIdx + 1]) : join(repo, 'src', 'api', 'gen'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
