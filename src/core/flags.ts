// A small command-line flag parser: every flag is declared with a type, all values are parsed up
// front, and every bad value is reported at once (like linkerd2-proxy's env.rs). A flag may also be
// set by an environment variable (`env`; the caller hands the environment in, the flag wins).
import { OutpostError } from './errors.js';

interface Common {
  help: string;
  short?: string;
  /** Environment variable that sets the flag when it is not given on the command line. */
  env?: string;
}
export type FlagSpec =
  | (Common & { type: 'string'; default?: string; oneOf?: readonly string[]; check?: (value: string) => string | undefined })
  | (Common & { type: 'int'; default?: number; min?: number; max?: number })
  | (Common & { type: 'bool'; default?: boolean })
  | (Common & { type: 'duration'; default?: number; min?: number }) // milliseconds
  | (Common & { type: 'list'; check?: (value: string) => string | undefined }); // repeatable

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S extends { type: 'string'; oneOf: readonly (infer U)[] }
  ? U
  : S extends { type: 'string' }
  ? string
  : S extends { type: 'int' } | { type: 'duration' }
    ? number
    : S extends { type: 'bool' }
      ? boolean
      : string[];

export type ParsedFlags<T extends FlagSpecs> = { [K in keyof T]: T[K] extends { default: unknown } | { type: 'bool' } | { type: 'list' } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined };

export interface ParseResult<T extends FlagSpecs> {
  flags: ParsedFlags<T>;
  positionals: string[];
  help: boolean;
}

/** Parses "1h", "30s", "250ms", "2m", "1h30m" into milliseconds. */
export function parseDuration(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms']!;
    consumed += m[0].length;
  }
  return consumed === s.length && consumed > 0 ? total : undefined;
}

/** Why `value` is not allowed for a flag of `spec`, or undefined when it is (the reason, not the flag's name). */
export function flagValueProblem(spec: FlagSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return `expected a string, got ${JSON.stringify(value)}`;
      if (spec.oneOf && !spec.oneOf.includes(value)) return `expected ${spec.oneOf.join(', ')}, got "${value}"`;
      return spec.check?.(value);
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `expected an integer, got ${JSON.stringify(value)}`;
      if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}, got ${value}`;
      if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}, got ${value}`;
      return undefined;
    case 'duration':
      if (typeof value !== 'number' || !(value >= 0)) return `expected a duration, got ${JSON.stringify(value)}`;
      if (spec.min !== undefined && value < spec.min) return `must be at least ${formatDuration(spec.min)}, got ${formatDuration(value)}`;
      return undefined;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${JSON.stringify(value)}`;
    case 'list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return `expected a list of strings, got ${JSON.stringify(value)}`;
      for (const v of value as string[]) {
        const problem = spec.check?.(v);
        if (problem) return problem;
      }
      return undefined;
  }
}

/** "600000" ms → "10m", 1500 → "1.5s": how help and errors show a duration. */
export function formatDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Every flag's value from programmatic settings (tests, `outpost demo`): the defaults, then
 * `values`; each value checked as a command-line value would be. Unknown names are refused.
 */
export function resolveFlags<T extends FlagSpecs>(specs: T, values: Partial<Record<keyof T, unknown>>): ParsedFlags<T> {
  const out = defaultValues(specs);
  const errors: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const spec = specs[name];
    if (!spec) errors.push(`unknown flag --${name}`);
    else if (value !== undefined) out[name] = value;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (out[name] === undefined) continue;
    const problem = flagValueProblem(spec, out[name]);
    if (problem) errors.push(`--${name}: ${problem}`);
  }
  if (errors.length > 0) throw new OutpostError('INVALID_ARGUMENT', errors.join('; '), { field: firstField(errors) });
  return out as ParsedFlags<T>;
}

function defaultValues(specs: FlagSpecs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === 'list') out[name] = [];
    else if (spec.type === 'bool') out[name] = spec.default ?? false;
    else if (spec.default !== undefined) out[name] = spec.default;
  }
  return out;
}

const firstField = (errors: string[]) => /^--([\w-]+)/.exec(errors[0] ?? '')?.[1];

export function parseFlags<T extends FlagSpecs>(argv: string[], specs: T, env: Record<string, string | undefined> = {}): ParseResult<T> {
  const out = defaultValues(specs);
  const errors: string[] = [];
  const positionals: string[] = [];
  let help = false;
  const fromEnv = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    const raw = spec.env ? env[spec.env] : undefined;
    if (raw === undefined || raw === '') continue;
    const parsed = parseValue(spec, raw);
    if (typeof parsed === 'object' && parsed && 'problem' in parsed) errors.push(`--${name} (from ${spec.env}): ${parsed.problem}`);
    else {
      out[name] = spec.type === 'list' ? [parsed] : parsed;
      fromEnv.add(name);
    }
  }
  const byShort = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      value = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      name = byShort.get(arg.slice(1));
      if (!name) {
        errors.push(`unknown flag ${arg}`);
        continue;
      }
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = specs[name];
    if (!spec) {
      errors.push(`unknown flag --${name}`);
      continue;
    }
    if (spec.type === 'bool') {
      if (value === undefined) out[name] = true;
      else if (value === 'true' || value === 'false') out[name] = value === 'true';
      else errors.push(`--${name}: expected true or false, got "${value}"`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) {
        errors.push(`--${name}: needs a value`);
        continue;
      }
      value = argv[++i];
    }
    const parsed = parseValue(spec, value);
    if (typeof parsed === 'object' && parsed && 'problem' in parsed) errors.push(`--${name}: ${parsed.problem}`);
    else if (spec.type === 'list') {
      // A list given on the command line replaces what its environment variable said.
      if (fromEnv.delete(name)) out[name] = [];
      (out[name] as string[]).push(parsed as string);
    } else out[name] = parsed;
  }
  if (errors.length > 0) throw new OutpostError('INVALID_ARGUMENT', errors.join('; '), { field: firstField(errors) });
  return { flags: out as ParsedFlags<T>, positionals, help };
}

/** A command-line (or environment) string as the flag's typed value, checked; or why it is not one. */
function parseValue(spec: FlagSpec, value: string): unknown {
  let typed: unknown = value;
  if (spec.type === 'bool') {
    if (value !== 'true' && value !== 'false') return { problem: `expected true or false, got "${value}"` };
    typed = value === 'true';
  } else if (spec.type === 'int') {
    if (!/^-?\d+$/.test(value)) return { problem: `expected an integer, got "${value}"` };
    typed = Number(value);
  } else if (spec.type === 'duration') {
    typed = parseDuration(value);
    if (typed === undefined) return { problem: `expected a duration like 30s, 5m or 24h, got "${value}"` };
  }
  const problem = flagValueProblem(spec, spec.type === 'list' ? [typed] : typed);
  return problem ? { problem } : typed;
}

export function formatFlagHelp(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, s]) => {
      const def = 'default' in s && s.default !== undefined && s.default !== '' ? ` (default ${s.type === 'duration' ? formatDuration(s.default) : String(s.default)})` : '';
      const oneOf = s.type === 'string' && s.oneOf ? `; one of ${s.oneOf.join(', ')}` : '';
      const env = s.env ? `; env ${s.env}` : '';
      const short = s.short ? `-${s.short}, ` : '    ';
      return `  ${short}--${name}${s.type === 'bool' ? '' : ' ' + s.type.toUpperCase()}\n        ${s.help}${def}${oneOf}${env}`;
    })
    .join('\n');
}
