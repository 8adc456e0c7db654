// The injector's HTTPS endpoint: the API server POSTs AdmissionReviews (admission.k8s.io/v1) to
// /inject; the answer carries the JSON Patch. When the injector cannot decide (the namespace cannot
// be read, a malformed review) it answers 500, so the API server applies the webhook's
// failurePolicy (Ignore: the pod is created without a proxy; Fail: it is refused), and records a
// failure metric and a Warning Event on the pod's workload.
import https from 'node:https';
import type { Logger } from '../core/log.js';
import type { MeshSettings } from '../inject/mesh.js';
import type { InjectorEventRecorder } from './events.js';
import type { InjectorMetrics } from './metrics.js';
import { podOwner, reviewPod, type AdmissionRequest } from './review.js';
import { listen } from '../core/http-listener.js';

/** Larger than any pod the API server accepts (its request limit is 3 MiB). */
const MAX_BODY = 4 * 1024 * 1024;
export const INJECT_PATH = '/inject';
export type FailurePolicy = 'Ignore' | 'Fail';

export interface InjectorServerOptions {
  host: string;
  port: number;
  tls: { certChainPem: string; keyPem: string };
  mesh: () => MeshSettings;
  namespaceAnnotations(ns: string): Promise<Record<string, string> | undefined>;
  failurePolicy: FailurePolicy;
  metrics: InjectorMetrics;
  events?: InjectorEventRecorder;
  log: Logger;
}

export interface RunningInjectorServer {
  port: number;
  setCertificate(tls: { certChainPem: string; keyPem: string }): void;
  close(): Promise<void>;
}

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** What an Event is about: the pod's workload, else the pod itself (by name), else its namespace. */
function eventSubject(pod: NonNullable<AdmissionRequest['object']>): { kind: string; name: string } | undefined {
  return podOwner(pod) ?? (pod.metadata?.name ? { kind: 'Pod', name: pod.metadata.name } : undefined);
}

export async function startInjectorServer(opts: InjectorServerOptions): Promise<RunningInjectorServer> {
  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const fail = (res: import('node:http').ServerResponse, reason: string, message: string, req?: AdmissionRequest) => {
    opts.metrics.failure(reason);
    opts.log.warn('could not review a pod; the API server applies the webhook failurePolicy', { reason, error: message, failurePolicy: opts.failurePolicy });
    const ns = req?.namespace;
    if (ns && !req?.dryRun) {
      const owner = req?.object ? eventSubject(req.object) : undefined;
      const consequence = opts.failurePolicy === 'Ignore' ? 'the pod is created WITHOUT the Outpost proxy (failurePolicy Ignore); delete it once the injector is back to get one' : 'the pod is refused (failurePolicy Fail)';
      opts.events?.record({ namespace: ns, owner, type: 'Warning', reason: 'InjectionFailed', message: `the proxy injector could not review a pod (${message}): ${consequence}` });
    }
    send(res, 500, { error: message });
  };
  const handler = async (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/ready' || path === '/live')) return void res.writeHead(200).end('ok\n');
    if (path !== INJECT_PATH) return send(res, 404, { error: `not found: the injector serves POST ${INJECT_PATH}` });
    if (req.method !== 'POST') return send(res, 405, { error: 'only POST' });
    let review: { apiVersion?: string; kind?: string; request?: AdmissionRequest };
    try {
      review = JSON.parse(await readBody(req));
    } catch (e) {
      return fail(res, 'bad_request', `not an AdmissionReview: ${(e as Error).message}`);
    }
    const request = review?.request;
    if (review?.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1' || !request?.uid) {
      return fail(res, 'bad_request', 'expected an admission.k8s.io/v1 AdmissionReview with request.uid (set admissionReviewVersions: [v1])');
    }
    let outcome;
    try {
      outcome = await reviewPod(request, { namespaceAnnotations: opts.namespaceAnnotations }, opts.mesh());
    } catch (e) {
      return fail(res, 'namespace_unreadable', `cannot read namespace ${request.namespace}: ${(e as Error).message}`, request);
    }
    opts.metrics.admission(outcome.result);
    const ns = request.namespace ?? 'default';
    if (!request.dryRun && outcome.result === 'injected') {
      opts.events?.record({ namespace: ns, owner: eventSubject(request.object!), type: 'Normal', reason: 'Injected', message: `Outpost proxy injected into a pod (identity ${outcome.identity})` });
    }
    if (!request.dryRun && outcome.result === 'denied') {
      opts.events?.record({ namespace: ns, owner: eventSubject(request.object!), type: 'Warning', reason: 'InjectionDenied', message: `a pod was refused: ${outcome.reason}` });
    }
    opts.log.debug('reviewed a pod', { namespace: ns, owner: outcome.owner ? `${outcome.owner.kind}/${outcome.owner.name}` : undefined, result: outcome.result, reason: outcome.reason });
    send(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: outcome.response });
  };
  const server = https.createServer({ cert: opts.tls.certChainPem, key: opts.tls.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    handler(req, res).catch((e) => {
      opts.log.error('injector request failed', { error: (e as Error).message });
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  server.keepAliveTimeout = 30_000;
  const listener = await listen(server, opts.port, opts.host);
  return {
    port: listener.port,
    setCertificate: (tls) => server.setSecureContext({ cert: tls.certChainPem, key: tls.keyPem, minVersion: 'TLSv1.2' }),
    close: () => listener.close(),
  };
}
