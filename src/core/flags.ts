// A small command-line flag parser: every flag is declared with a type, all values are parsed up
// front, and every bad value is reported at once (like linkerd2-proxy's env.rs).
import { OutpostError } from './errors.js';

export type FlagSpec =
  | { type: 'string'; default?: string; help: string; short?: string }
  | { type: 'int'; default?: number; min?: number; max?: number; help: string; short?: string }
  | { type: 'bool'; default?: boolean; help: string; short?: string }
  | { type: 'duration'; default?: number; help: string; short?: string } // milliseconds
  | { type: 'list'; help: string; short?: string }; // repeatable

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S extends { type: 'string' }
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

export function parseFlags<T extends FlagSpecs>(argv: string[], specs: T): ParseResult<T> {
  const out: Record<string, unknown> = {};
  const errors: string[] = [];
  const positionals: string[] = [];
  let help = false;
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === 'list') out[name] = [];
    else if (spec.type === 'bool') out[name] = spec.default ?? false;
    else if (spec.default !== undefined) out[name] = spec.default;
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
    switch (spec.type) {
      case 'string':
        out[name] = value;
        break;
      case 'list':
        (out[name] as string[]).push(value);
        break;
      case 'int': {
        const n = Number(value);
        if (!/^-?\d+$/.test(value)) errors.push(`--${name}: expected an integer, got "${value}"`);
        else if (spec.min !== undefined && n < spec.min) errors.push(`--${name}: must be at least ${spec.min}, got ${n}`);
        else if (spec.max !== undefined && n > spec.max) errors.push(`--${name}: must be at most ${spec.max}, got ${n}`);
        else out[name] = n;
        break;
      }
      case 'duration': {
        const ms = parseDuration(value);
        if (ms === undefined) errors.push(`--${name}: expected a duration like 30s, 5m or 24h, got "${value}"`);
        else out[name] = ms;
        break;
      }
    }
  }
  if (errors.length > 0) throw new OutpostError('INVALID_ARGUMENT', errors.join('; '));
  return { flags: out as ParsedFlags<T>, positionals, help };
}

export function formatFlagHelp(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, s]) => {
      const def = 'default' in s && s.default !== undefined ? ` (default ${s.type === 'duration' ? `${s.default / 1000}s` : String(s.default)})` : '';
      const short = s.short ? `-${s.short}, ` : '    ';
      return `  ${short}--${name}${s.type === 'bool' ? '' : ' ' + s.type.toUpperCase()}\n        ${s.help}${def}`;
    })
    .join('\n');
}
