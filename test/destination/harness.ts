// Test harness for the discovery and policy gRPC services: a test CA with server and client
// certificates, gRPC clients over real mTLS, and a stream recorder that waits for messages.
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { CertificateAuthority } from '../../src/core/pki.js';
import { createTestPki, spiffeIdOf } from '../support/pki.js';
import type { ServiceCertificate } from '../../src/core/component.js';
import { serviceClient, serviceDefinition } from '../../src/api/load.js';

export interface TestPki {
  ca: CertificateAuthority;
  serverCert: ServiceCertificate;
  client(uri: string): Promise<grpc.ChannelCredentials>;
  clientPems(uri: string): Promise<{ certPem: string; keyPem: string }>;
}

export async function testPki(): Promise<TestPki> {
  const pki = await createTestPki();
  const serverCert = await pki.leaf({ commonName: 'destination', identity: spiffeIdOf('outpost', 'outpost-destination'), dns: ['localhost'], ips: ['127.0.0.1'] });
  const clientPems = async (uri: string) => {
    const c = await pki.leaf({ commonName: 'client', identity: uri, usages: ['client'] });
    return { certPem: c.chainPem, keyPem: c.keyPem };
  };
  return {
    ca: pki.root,
    serverCert,
    async client(uri: string) {
      const c = await clientPems(uri);
      return grpc.credentials.createSsl(Buffer.from(pki.trustAnchorsPem), Buffer.from(c.keyPem), Buffer.from(c.certPem));
    },
    clientPems,
  };
}

export function destinationClient(address: string, creds: grpc.ChannelCredentials): any {
  const Destination = serviceClient('outpost.destination.v1.Destination') as any;
  return new Destination(address, creds, { 'grpc.use_local_subchannel_pool': 1 });
}

export function policyClient(address: string, creds: grpc.ChannelCredentials): any {
  const InboundPolicies = serviceClient('outpost.policy.v1.InboundPolicies') as any;
  return new InboundPolicies(address, creds, { 'grpc.use_local_subchannel_pool': 1 });
}

/**
 * A client that opens a destination Get stream over raw HTTP/2 and never reads it: its receive
 * window fills and the server's writes back up, like a stuck proxy. grpc-js clients keep reading
 * into memory, so they cannot play this part. Returns a function that resolves with the stream's
 * end (RST code or grpc-status) once it starts reading, and a close function.
 */
export async function stuckGetStream(address: string, pki: TestPki, path: string): Promise<{ drainAndWaitEnd: () => Promise<string>; close: () => void }> {
  const pems = await pki.clientPems('spiffe://cluster.local/ns/stuck/sa/stuck');
  const session = http2.connect(`https://${address}`, { ca: pki.ca.certPem, cert: pems.certPem, key: pems.keyPem, servername: 'localhost', settings: { initialWindowSize: 65_535 } });
  const body: Buffer = serviceDefinition('outpost.destination.v1.Destination').Get.requestSerialize({ path });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  const req = session.request({ ':method': 'POST', ':path': '/outpost.destination.v1.Destination/Get', 'content-type': 'application/grpc', te: 'trailers' });
  req.end(frame);
  let status = '';
  req.on('trailers', (t) => (status = `grpc-status ${t['grpc-status']}`));
  req.on('error', () => {});
  session.on('error', () => {});
  const closed = new Promise<string>((resolve) => req.on('close', () => resolve(status || `rst ${req.rstCode}`)));
  return {
    drainAndWaitEnd: () => {
      req.resume();
      return closed;
    },
    close: () => session.destroy(),
  };
}

/** Records a server stream: every message, and its final status. */
export class Recorder<M = any> {
  readonly messages: M[] = [];
  status: { code: number; details: string } | undefined;
  private waiters: (() => void)[] = [];

  constructor(readonly call: grpc.ClientReadableStream<M>, read = true) {
    if (read) call.on('data', (m: M) => this.push(m));
    call.on('error', (e: any) => this.finish({ code: e.code, details: e.details ?? e.message }));
    call.on('status', (s: grpc.StatusObject) => this.finish({ code: s.code, details: s.details }));
  }

  private push(m: M): void {
    this.messages.push(m);
    this.wake();
  }

  private finish(s: { code: number; details: string }): void {
    this.status ??= s;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `pred` holds on the messages so far (or the stream ended), rejects after `ms`. */
  async until(pred: (msgs: M[]) => boolean, ms = 5_000, what = 'condition'): Promise<M[]> {
    const deadline = Date.now() + ms;
    while (!pred(this.messages)) {
      if (this.status && !pred(this.messages)) throw new Error(`stream ended (${this.status.code} ${this.status.details}) before ${what}; got ${this.messages.length} messages`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.messages;
  }

  async ended(ms = 5_000): Promise<{ code: number; details: string }> {
    const deadline = Date.now() + ms;
    while (!this.status) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the stream to end');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.status;
  }
}

/** Every endpoint address currently added (applies add/remove/noEndpoints in order). */
export function currentAddresses(updates: any[]): string[] {
  const set = new Map<string, any>();
  for (const u of updates) {
    if (u.add) for (const e of u.add.endpoints) set.set(`${e.address}:${e.port}`, e);
    if (u.remove) for (const e of u.remove.endpoints) set.delete(`${e.address}:${e.port}`);
  }
  return [...set.keys()].sort();
}
