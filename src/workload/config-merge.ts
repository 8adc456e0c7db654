// Merging a fresh onboarding bundle's proxy-config.yaml into the one already there (install.sh on
// the VM, `onboard --renew` in the bundle dir), pure: what onboarding owns (how to reach the control
// plane, the identity files, who the workload is, the announced inbound port) comes from the new
// bundle; everything the user set or added (upstreams, dns, timeouts, log level, ...) is kept.
// Upstreams merge by service:port. Every difference is reported, one line each.
import { parse as parseYaml, stringify as toYaml } from 'yaml';

/** Paths (dotted) whose value is onboarding's: the new bundle's wins. */
const OWNED = ['identity', 'destination', 'policy.endpoint', 'health', 'workload', 'inbound.port'];

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v);
const owned = (path: string) => OWNED.some((o) => path === o || path.startsWith(`${o}.`));
const show = (v: unknown) => (isMap(v) || Array.isArray(v) ? JSON.stringify(v) : String(v));

export interface MergeResult {
  text: string;
  /** What the merge did, for the user: "kept upstreams redis.caching:6379 (yours)", ... */
  changes: string[];
}

const upstreamKey = (u: unknown) => (isMap(u) ? `${String(u.service ?? u.name ?? '')}:${String(u.port ?? '')}` : JSON.stringify(u));

function mergeUpstreams(installed: unknown[], fresh: unknown[], changes: string[]): unknown[] {
  const out = [...installed];
  const have = new Map(installed.map((u, i) => [upstreamKey(u), i]));
  for (const u of installed) if (!fresh.some((f) => upstreamKey(f) === upstreamKey(u))) changes.push(`kept upstream ${upstreamKey(u)} (yours)`);
  for (const u of fresh) {
    const i = have.get(upstreamKey(u));
    if (i === undefined) {
      out.push(u);
      changes.push(`added upstream ${upstreamKey(u)}`);
    } else if (JSON.stringify(installed[i]) !== JSON.stringify(u)) {
      changes.push(`kept your settings of upstream ${upstreamKey(u)} (the bundle has ${show(u)})`);
    }
  }
  return out;
}

function mergeMaps(installed: Doc, fresh: Doc, prefix: string, changes: string[]): Doc {
  const out: Doc = {};
  for (const key of new Set([...Object.keys(fresh), ...Object.keys(installed)])) {
    const path = prefix ? `${prefix}.${key}` : key;
    const mine = installed[key];
    const theirs = fresh[key];
    if (!(key in installed)) {
      out[key] = theirs;
      if (prefix || !owned(path)) changes.push(`added ${path}: ${show(theirs)}`);
    } else if (!(key in fresh)) {
      out[key] = mine;
      if (path === 'upstreams' && Array.isArray(mine)) for (const u of mine) changes.push(`kept upstream ${upstreamKey(u)} (yours)`);
      else if (!owned(path)) changes.push(`kept ${path}: ${show(mine)} (yours)`);
      else changes.push(`removed ${path} (onboarding no longer sets it)`);
    } else if (path === 'upstreams' && Array.isArray(mine) && Array.isArray(theirs)) {
      out[key] = mergeUpstreams(mine, theirs, changes);
    } else if (isMap(mine) && isMap(theirs)) {
      out[key] = mergeMaps(mine, theirs, path, changes);
    } else if (JSON.stringify(mine) === JSON.stringify(theirs)) {
      out[key] = theirs;
    } else if (owned(path)) {
      out[key] = theirs;
      changes.push(`updated ${path}: ${show(mine)} -> ${show(theirs)}`);
    } else {
      out[key] = mine;
      changes.push(`kept ${path}: ${show(mine)} (yours; the bundle has ${show(theirs)})`);
    }
  }
  return out;
}

/** The bundle's header comment, then the merged settings. Throws naming the file when one is not a YAML mapping. */
export function mergeProxyConfig(installedText: string, freshText: string, names = { installed: 'installed config', fresh: 'bundle config' }): MergeResult {
  const load = (text: string, name: string): Doc => {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new Error(`${name}: not valid YAML (${(e as Error).message.split('\n')[0]})`, { cause: e });
    }
    if (doc === null || doc === undefined) return {};
    if (!isMap(doc)) throw new Error(`${name}: must be a YAML mapping`);
    return doc;
  };
  const installed = load(installedText, names.installed);
  const fresh = load(freshText, names.fresh);
  const changes: string[] = [];
  const merged = mergeMaps(installed, fresh, '', changes);
  const header = freshText.split('\n').filter((l, i, all) => l.startsWith('#') && all.slice(0, i).every((p) => p.startsWith('#'))).join('\n');
  return { text: `${header}\n${header ? '# merged with the settings already installed (yours are kept)\n\n' : ''}${toYaml(merged)}`, changes };
}
