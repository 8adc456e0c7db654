// Value formats Kubernetes and Linkerd validate: DNS names, IANA service names, label keys and
// values, IPs and CIDRs, SPIFFE ids, Go durations. Each check returns the problems ([] = valid),
// worded like apimachinery's validation messages.
import { isIP } from 'node:net';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const fullCache = new Map<string, RegExp>();
function full(re: string): RegExp {
  let compiled = fullCache.get(re);
  if (!compiled) fullCache.set(re, (compiled = new RegExp(`^${re}$`)));
  return compiled;
}

export function dns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(v)) {
    errs.push(`a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL}')`);
  }
  return errs;
}

export function dns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(v)) {
    errs.push(`a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${DNS1123_SUBDOMAIN}')`);
  }
  return errs;
}

export function dns1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1035_LABEL).test(v)) {
    errs.push(`a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '${DNS1035_LABEL}')`);
  }
  return errs;
}

/** IANA_SVC_NAME (RFC 6335): port names such as `http`, `grpc-api`. */
export function ianaSvcName(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function qualifiedName(v: string): string[] {
  const parts = v.split('/');
  let name = v;
  const errs: string[] = [];
  if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (!prefix) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  } else if (parts.length > 2) {
    return [`a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (!name) errs.push('name part must be non-empty');
  else {
    if (name.length > 63) errs.push('name part must be no more than 63 characters');
    if (!full(QUALIFIED_NAME).test(name)) {
      errs.push(`name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME}')`);
    }
  }
  return errs;
}

export function labelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (v !== '' && !full(QUALIFIED_NAME).test(v)) {
    errs.push(`a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(${QUALIFIED_NAME})?')`);
  }
  return errs;
}

/** 4 or 6 for a valid IP address in canonical-enough form (no zones, no leading zeros), else 0. */
export function ipFamily(v: string): 0 | 4 | 6 {
  if (v.includes('%')) return 0;
  const family = isIP(v);
  return family === 4 || family === 6 ? family : 0;
}

export function ipAddress(v: string): string[] {
  return ipFamily(v) ? [] : ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
}

export function cidr(v: string): string[] {
  const m = /^(.+)\/(\d{1,3})$/.exec(v);
  const family = m ? ipFamily(m[1]) : 0;
  if (!m || !family || Number(m[2]) > (family === 4 ? 32 : 128)) {
    return ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'];
  }
  return [];
}

/** A SPIFFE id with a workload path: spiffe://trust-domain/path/segments. */
export function spiffeId(v: string): string[] {
  if (v.length > 2048) return ['must be no more than 2048 characters'];
  const m = /^spiffe:\/\/([^/]*)(\/.*)?$/.exec(v);
  if (!m) return ['must be a SPIFFE ID of the form spiffe://<trust-domain>/<path> (e.g. spiffe://cluster.local/ns/default/sa/web)'];
  const [, trustDomain, path] = m;
  if (!trustDomain || !/^[a-z0-9._-]+$/.test(trustDomain)) {
    return ['trust domain must be non-empty and contain only lower case letters, digits, ".", "-" and "_"'];
  }
  if (!path || path === '/') return ['must have a path after the trust domain (e.g. spiffe://cluster.local/ns/default/sa/web)'];
  for (const segment of path.slice(1).split('/')) {
    if (!segment) return ['path must not contain empty segments or a trailing "/"'];
    if (segment === '.' || segment === '..') return ['path segments must not be "." or ".."'];
    if (!/^[A-Za-z0-9._-]+$/.test(segment)) return ['path segments may contain only letters, digits, ".", "-" and "_"'];
  }
  return [];
}

/** A Go duration such as `10s`, `1m30s`, `500ms`. */
export function goDuration(v: string): string[] {
  return v === '0' || /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(v) ? [] : ['must be a duration such as "10s", "1m30s" or "500ms"'];
}

/** Milliseconds of a valid Go duration (see goDuration). */
export function parseGoDuration(v: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of v.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]];
  return total;
}

/** A ConfigMap or Secret data key. */
export function configMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(v)) errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  if (v === '.' || v === '..') errs.push(`must not be '${v}'`);
  return errs;
}

/** A Linkerd-style identity match: `*`, a DNS-like name optionally starting with `*.`, or a SPIFFE id. */
export function identityMatch(v: string): string[] {
  if (v === '*') return [];
  if (v.startsWith('spiffe://')) return spiffeId(v);
  return /^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v)
    ? []
    : ['must be "*", a SPIFFE ID, or a DNS-like identity such as "web.default.serviceaccount.identity.outpost.cluster.local" (a leading "*." matches a whole domain)'];
}
