// HTTPRoutes (pure): which routes attach to a Service port, their matches in a compact form, and a
// table that picks the route a request takes by Gateway API precedence. The one matcher of both
// directions: outbound, the proxy labels metrics with the route's name (routes of a Service, from
// the destination service); inbound, it authorizes with the route's policy (routes of a Server).

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';

export interface ValueMatch {
  name: string;
  value: string;
  regex: boolean;
}

export interface RouteMatch {
  pathType: PathMatchType;
  path: string;
  /** Empty: any method. */
  method: string;
  headers: ValueMatch[];
  queryParams: ValueMatch[];
}

export interface ServiceRoute {
  name: string;
  matches: RouteMatch[];
}

/** The subset of an HTTPRoute object this module reads (any served version). */
export interface HttpRouteLike {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string | Date };
  spec?: {
    parentRefs?: { group?: string; kind?: string; name?: string; namespace?: string; port?: number }[];
    rules?: { matches?: RawMatch[] }[];
  };
}

interface RawMatch {
  path?: { type?: string; value?: string };
  method?: string;
  headers?: { type?: string; name?: string; value?: string }[];
  queryParams?: { type?: string; name?: string; value?: string }[];
}

/**
 * True when the route is a producer route of the Service: in the Service's namespace, with a
 * parentRef naming it (kind Service, group "" or "core"), on `port` or on every port. Consumer
 * routes (in a client's namespace) are not applied (ADR 0011).
 */
export function attachesToService(route: HttpRouteLike, namespace: string, name: string, port?: number): boolean {
  const own = route.metadata?.namespace ?? 'default';
  if (own !== namespace) return false;
  return (route.spec?.parentRefs ?? []).some(
    (p) =>
      p.kind === 'Service' &&
      (p.group === undefined || p.group === '' || p.group === 'core') &&
      p.name === name &&
      (p.namespace ?? own) === namespace &&
      (port === undefined || p.port === undefined || p.port === port),
  );
}

function valueMatches(xs: RawMatch['headers']): ValueMatch[] {
  return (xs ?? []).filter((h) => h.name).map((h) => ({ name: h.name!, value: h.value ?? '', regex: h.type === 'RegularExpression' }));
}

/** A route's matches; a rule without matches matches every request (Gateway API: prefix "/"). */
export function serviceRouteOf(route: HttpRouteLike): ServiceRoute {
  const matches: RouteMatch[] = [];
  for (const rule of route.spec?.rules ?? [{}]) {
    for (const m of rule.matches?.length ? rule.matches : [{}]) {
      const type = m.path?.type === 'Exact' || m.path?.type === 'RegularExpression' ? m.path.type : 'PathPrefix';
      matches.push({ pathType: type, path: m.path?.value ?? '/', method: (m.method ?? '').toUpperCase(), headers: valueMatches(m.headers), queryParams: valueMatches(m.queryParams) });
    }
  }
  return { name: route.metadata?.name ?? '', matches };
}

function createdAt(r: HttpRouteLike): number {
  const t = r.metadata?.creationTimestamp;
  const ms = t === undefined ? NaN : new Date(t).getTime();
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

/** The routes attached to a Service port (any port when undefined), oldest first then by name (the Gateway API tie-break). */
export function routesForService(routes: readonly HttpRouteLike[], namespace: string, name: string, port?: number): ServiceRoute[] {
  return routes
    .filter((r) => attachesToService(r, namespace, name, port))
    .sort((a, b) => createdAt(a) - createdAt(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
    .map(serviceRouteOf);
}

/** Reads a request's header (lower-case name) and query string. */
export interface RequestView {
  method: string;
  /** The request target's path and query ("/orders/7?x=1"). */
  target: string;
  header(name: string): string | undefined;
}

interface CompiledMatch {
  route: number;
  order: number;
  rank: [number, number, number, number, number];
  test(req: RequestView, path: string, query: URLSearchParams | undefined): boolean;
}

/** A full-string regular expression, or undefined when the pattern does not compile (never matches). */
function fullRegex(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

function valueTest(m: ValueMatch): (v: string | undefined) => boolean {
  if (!m.regex) return (v) => v === m.value;
  const re = fullRegex(m.value);
  return (v) => v !== undefined && !!re && re.test(v);
}

function pathTest(m: RouteMatch): (path: string) => boolean {
  if (m.pathType === 'Exact') return (p) => p === m.path;
  if (m.pathType === 'RegularExpression') {
    const re = fullRegex(m.path);
    return (p) => !!re && re.test(p);
  }
  const prefix = m.path.replace(/\/+$/, '');
  // Element-wise: "/orders" matches "/orders" and "/orders/7", not "/ordersx".
  return prefix === '' ? () => true : (p) => p === prefix || p.startsWith(prefix + '/');
}

function compile(route: number, m: RouteMatch, order: number): CompiledMatch {
  const path = pathTest(m);
  const headers = m.headers.map((h) => ({ name: h.name.toLowerCase(), test: valueTest(h) }));
  const params = m.queryParams.map((q) => ({ name: q.name, test: valueTest(q) }));
  const kind = m.pathType === 'Exact' ? 2 : m.pathType === 'RegularExpression' ? 1 : 0;
  return {
    route,
    order,
    // Gateway API precedence: exact path, then the longest path, then a method, then more headers, then more query params.
    rank: [kind, m.path.length, m.method ? 1 : 0, headers.length, params.length],
    test: (req, p, query) =>
      (!m.method || m.method === req.method.toUpperCase()) &&
      path(p) &&
      headers.every((h) => h.test(req.header(h.name))) &&
      params.every((q) => q.test(query?.get(q.name) ?? undefined)),
  };
}

function byPrecedence(a: CompiledMatch, b: CompiledMatch): number {
  for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return b.rank[i] - a.rank[i];
  return a.order - b.order;
}

/** The routes of one Service port, compiled once; `routeOf` names the route a request takes. */
export class RouteTable {
  private readonly matches: CompiledMatch[];
  private readonly needsQuery: boolean;

  constructor(readonly routes: readonly ServiceRoute[]) {
    let order = 0;
    this.matches = routes.flatMap((r, i) => r.matches.map((m) => compile(i, m, order++))).sort(byPrecedence);
    this.needsQuery = routes.some((r) => r.matches.some((m) => m.queryParams.length > 0));
  }

  get size(): number {
    return this.routes.length;
  }

  /** The name of the route that takes the request, or undefined (the [DEFAULT] route). */
  routeOf(req: RequestView): string | undefined {
    const i = this.indexOf(req);
    return i < 0 ? undefined : this.routes[i].name;
  }

  /** The index in `routes` of the route that takes the request, -1 when no match does. */
  indexOf(req: RequestView): number {
    if (this.matches.length === 0) return -1;
    const target = req.target ?? '';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = this.needsQuery && q >= 0 ? new URLSearchParams(target.slice(q + 1)) : undefined;
    for (const m of this.matches) if (m.test(req, path, query)) return m.route;
    return -1;
  }
}

/** A header's value from raw alternating name/value pairs (`name` in lower case); repeated ones joined by ",". */
export function rawHeaderValue(raw: readonly string[], name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) out = out === undefined ? raw[i + 1] : `${out},${raw[i + 1]}`;
  return out;
}

/** One match in a line: "GET /orders*" (prefix), "* /health" (exact), "* ~/v[0-9]+/.*" (regex), then header and query conditions. */
export function describeMatch(m: RouteMatch): string {
  const path = m.pathType === 'PathPrefix' ? `${m.path}*` : m.pathType === 'RegularExpression' ? `~${m.path}` : m.path;
  const cond = (kind: string, v: ValueMatch) => `${kind}:${v.name}${v.regex ? '~' : '='}${v.value}`;
  const extra = [...m.headers.map((h) => cond('header', h)), ...m.queryParams.map((q) => cond('query', q))];
  return [`${m.method || '*'} ${path}`, ...extra].join(' ');
}
