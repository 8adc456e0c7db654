// The request pipeline: parse the route, authenticate, authorize, then dispatch to the fixed
// endpoints (version, health, discovery, OpenAPI) or to the resource handlers. Every failure is
// answered with a Status body; nothing a client sends can stop the server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize, forbiddenMessage, type RequestAttributes } from '../auth/authn.js';
import type { Pipeline } from './pipeline.js';
import { handleResource } from './resource-http.js';
import { parseRoute, type Route } from './routes.js';
import { queryFlag, sendError, sendJson } from './request.js';
import { ApiError, forbidden, internalError, methodNotAllowed, notFoundPath, qualifiedResource, unauthorized } from './status.js';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '4cb5f07e2bd7bd5b8cbd8b7f9e3b5f0e3c2ac2b1',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:03:47Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function createRequestListener(p: Pipeline): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    p.ctx.log.debug('request', { method: req.method, path: req.url });
    handle(p, req, res).catch((e) => {
      const err = e instanceof ApiError ? e : internalError(e instanceof Error ? e.message : String(e));
      if (err.code >= 500) p.ctx.log.error('request failed', { method: req.method, path: req.url, error: e });
      if (res.headersSent) res.end();
      else sendError(res, err);
    });
  };
}

async function handle(p: Pipeline, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://apiserver.invalid');
  const route = parseRoute(url.pathname);
  if (route.kind === 'health') {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('ok');
    return;
  }
  const requester = p.authenticator.authenticate(req.headers.authorization);
  if (!requester) {
    req.resume();
    throw unauthorized();
  }
  if (route.kind === 'resource') {
    const attrs = resourceAttributes(req.method ?? 'GET', url.searchParams, route);
    if (!authorize(requester, attrs)) {
      req.resume();
      const { target } = route;
      throw forbidden(forbiddenMessage(requester, attrs, qualifiedResource(target.group, target.plural), target.name), {
        name: target.name,
        group: target.group,
        kind: target.plural,
      });
    }
    await handleResource(p, req, res, url, route.target);
    return;
  }
  if (!authorize(requester, { resourceRequest: false, path: url.pathname })) {
    req.resume();
    throw forbidden(`forbidden: User "${requester.username}" cannot ${(req.method ?? 'get').toLowerCase()} path "${url.pathname}"`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    req.resume();
    throw route.kind === 'unknown' ? notFoundPath() : methodNotAllowed();
  }
  serveDocument(p, req, res, route);
}

function serveDocument(p: Pipeline, req: IncomingMessage, res: ServerResponse, route: Route): void {
  const found = (doc: unknown) => {
    if (doc === undefined) throw notFoundPath();
    sendJson(res, 200, doc);
  };
  switch (route.kind) {
    case 'version':
      return sendJson(res, 200, VERSION_INFO);
    case 'discoveryRoot': {
      const aggregated = p.docs.aggregatedDiscovery(route.root, req.headers.accept);
      if (aggregated) return sendJson(res, 200, aggregated.body, { 'Content-Type': aggregated.contentType, Vary: 'Accept' });
      return sendJson(res, 200, p.docs.legacyDiscovery(route.root, p.serverAddress()), { Vary: 'Accept' });
    }
    case 'discoveryGroup':
      return found(p.docs.groupDiscovery(route.group));
    case 'discoveryGroupVersion':
      return found(p.docs.resourceList(route.group, route.version));
    case 'openapiV3Index':
      return found(p.docs.openapiIndex());
    case 'openapiV3GroupVersion':
      return found(p.docs.openapiGroupVersion(route.group, route.version));
    default:
      // /openapi/v2 included: kubectl falls back to its built-in types on 404 (wire spec §4).
      throw notFoundPath();
  }
}

function resourceAttributes(method: string, q: URLSearchParams, route: Extract<Route, { kind: 'resource' }>): RequestAttributes & { resourceRequest: true } {
  const t = route.target;
  const watch = queryFlag(q, 'watch');
  const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: t.name ? 'delete' : 'deletecollection' };
  const verb = method === 'GET' || method === 'HEAD' ? (t.name ? 'get' : watch ? 'watch' : 'list') : (verbs[method] ?? method.toLowerCase());
  return { resourceRequest: true, verb, group: t.group, resource: t.subresource ? `${t.plural}/${t.subresource}` : t.plural, namespace: t.namespace };
}
