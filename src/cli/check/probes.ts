// Small network probes the checks use: an HTTPS GET through a kubeconfig, a TLS handshake verified
// against trust anchors, a plain HTTP GET, and whether a port is free.
import { request as httpsRequest } from 'node:https';
import { get as httpGet } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { createServer } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RawResponse {
  status: number;
  body: string;
  date?: string;
}

/** GET a raw API path with the kubeconfig's credentials and CA. */
export async function apiGet(kc: KubeConfig, path: string, timeoutMs = 5000): Promise<RawResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const opts: Record<string, unknown> = { method: 'GET', headers: {} as Record<string, string>, timeout: timeoutMs };
  await kc.applyToHTTPSOptions(opts as never);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, opts as never, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, date: res.headers.date }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Completes a TLS handshake with host:port, verifying its certificate chain against `ca` (names are not checked). */
export function tlsHandshake(hostPort: string, ca: string, timeoutMs = 3000): Promise<{ subject: string; validTo: string }> {
  const { host, port } = splitHostPort(hostPort);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ca, servername: host.match(/^[\d.:[\]]+$/) ? undefined : host, checkServerIdentity: () => undefined, timeout: timeoutMs, ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve({ subject: cert.subjectaltname ?? String(cert.subject?.CN ?? ''), validTo: cert.valid_to });
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS answer from ${hostPort} within ${timeoutMs} ms`)));
    socket.on('error', reject);
  });
}

export function httpGetText(url: string, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort.replace(/^\w+:\/\//, ''));
  if (!m) throw new Error(`"${hostPort}" is not host:port`);
  return { host: m[1], port: Number(m[2]) };
}

/** Human form of a network error. */
export function networkReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  if (err.code === 'ETIMEDOUT') return 'timed out';
  if (err.code === 'ENOTFOUND') return 'host not found';
  return err.message ?? String(e);
}
