// The VM's DNS proxy (dns.port in proxy-config.yaml; `outpost proxy-init --redirect-dns` sends the
// app's DNS here): Service names are answered with the Service's cluster IP, as the control plane
// knows it (destination GetProfile), so `postgres:5432` works from a VM app as it does in a pod;
// every other query is forwarded, byte for byte, to the nameservers of the VM's resolv.conf.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import type { ProxyContext } from '../context.js';
import { ProfileCache } from '../profile-cache.js';
import { buildAnswer, parseQuery, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, type Question } from './message.js';
import { meshNameOf, nameserversOf } from './names.js';
import { ipv6TwinOf } from '../dual-stack.js';
import type { ListenerSet } from '../handover.js';

const FORWARD_TIMEOUT_MS = 2000;
const MAX_TCP_MESSAGE = 65_535;

export interface DnsProxy {
  port: number;
  close(): void;
}

type Answer = { reply: Buffer } | { forward: true };

export async function startDnsProxy(ctx: ProxyContext, listeners: ListenerSet): Promise<DnsProxy | undefined> {
  const cfg = ctx.config.dns;
  if (!cfg) return undefined;
  const profiles = new ProfileCache(ctx);
  const namespace = ctx.config.workload.namespace;
  let servers: { at: number; list: string[] } = { at: 0, list: [] };
  const nameservers = () => {
    if (Date.now() - servers.at > 5000) {
      let text = '';
      try {
        text = readFileSync(cfg.resolvConf, 'utf8');
      } catch (e) {
        ctx.log.warn('cannot read the resolvers to forward DNS queries to', { file: cfg.resolvConf, reason: (e as Error).message });
      }
      servers = { at: Date.now(), list: nameserversOf(text) };
    }
    return servers.list;
  };

  const answer = (query: Buffer, cb: (a: Answer) => void) => {
    const q = parseQuery(query);
    const mesh = q && q.klass === 1 ? meshNameOf(q.name, namespace, cfg.clusterDomain) : undefined;
    if (!q || !mesh) return cb({ forward: true });
    if (!mesh.service) return cb({ reply: buildAnswer(query, q, RCODE_NXDOMAIN) });
    // The port is required by the lookup's form and plays no part in a Service's cluster IP.
    profiles.lookup(`${mesh.service}.${mesh.namespace}.svc.${cfg.clusterDomain}:53`, ctx.config.timeouts.connectMs, (p) => {
      if (p?.clusterIP) return cb({ reply: buildAnswer(query, q, RCODE_NOERROR, [p.clusterIP]) });
      if (!mesh.authoritative) return cb({ forward: true });
      cb({ reply: buildAnswer(query, q, p ? RCODE_NXDOMAIN : RCODE_SERVFAIL) });
    });
  };
  const servfail = (query: Buffer, q: Question | undefined) => (q ? buildAnswer(query, q, RCODE_SERVFAIL) : undefined);

  const onUdp = (sock: UdpSocket) => (msg: Buffer, rinfo: { address: string; port: number }) => {
    answer(msg, (a) => {
      if ('reply' in a) return sock.send(a.reply, rinfo.port, rinfo.address);
      forwardUdp(msg, nameservers(), (reply) => {
        const out = reply ?? servfail(msg, parseQuery(msg));
        if (out) sock.send(out, rinfo.port, rinfo.address);
      });
    });
  };
  const onTcp = (conn: Socket) => {
    conn.on('error', () => {});
    conn.setTimeout(10_000, () => conn.destroy());
    let buf = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const send = (out: Buffer | undefined) => {
          if (!out || conn.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          conn.write(Buffer.concat([len, out]));
        };
        answer(msg, (a) => ('reply' in a ? send(a.reply) : forwardTcp(msg, nameservers(), (reply) => send(reply ?? servfail(msg, parseQuery(msg))))));
      }
    });
  };

  const closers: (() => void)[] = [() => profiles.close()];
  const hosts = [cfg.host, ...(ipv6TwinOf(cfg.host) ? [ipv6TwinOf(cfg.host)!] : [])];
  let port = cfg.port;
  for (const [i, host] of hosts.entries()) {
    try {
      const udp = await listeners.udp(`dns-udp${i}`, isIPv6(host) ? 'udp6' : 'udp4', host, port);
      port = udp.address().port;
      udp.on('message', onUdp(udp));
      udp.on('error', (e) => ctx.log.warn('DNS proxy socket error', { reason: e.message }));
      closers.push(() => udp.close());
      const tcp: Server = createServer(onTcp);
      await listeners.tcp(`dns-tcp${i}`, tcp, host, port, isIPv6(host));
      closers.push(() => tcp.close());
    } catch (e) {
      if (i === 0) {
        for (const c of closers) c();
        throw e;
      }
      ctx.log.info('no IPv6 DNS listener (IPv6 unavailable on this host)', { address: `[${host}]:${port}`, reason: (e as Error).message });
    }
  }
  ctx.log.info('DNS proxy listening', { address: `${cfg.host}:${port}`, clusterDomain: cfg.clusterDomain, forwardTo: nameservers() });
  return { port, close: () => closers.forEach((c) => c()) };
}

/** Asks each nameserver in turn over UDP; calls back with the first reply, or undefined. */
function forwardUdp(query: Buffer, servers: string[], cb: (reply: Buffer | undefined) => void, i = 0): void {
  if (i >= servers.length) return cb(undefined);
  const server = servers[i];
  const sock = createSocket(isIPv6(server) ? 'udp6' : 'udp4');
  const id = query.readUInt16BE(0);
  let done = false;
  const finish = (reply: Buffer | undefined) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sock.close();
    if (reply) cb(reply);
    else forwardUdp(query, servers, cb, i + 1);
  };
  const timer = setTimeout(() => finish(undefined), FORWARD_TIMEOUT_MS);
  sock.on('error', () => finish(undefined));
  sock.on('message', (msg) => {
    if (msg.length >= 2 && msg.readUInt16BE(0) === id) finish(msg);
  });
  sock.send(query, 53, server);
}

/** The same over TCP (queries that came over TCP, e.g. after a truncated UDP answer). */
function forwardTcp(query: Buffer, servers: string[], cb: (reply: Buffer | undefined) => void, i = 0): void {
  if (i >= servers.length) return cb(undefined);
  const conn = tcpConnect({ host: servers[i], port: 53 });
  let buf = Buffer.alloc(0);
  let done = false;
  const finish = (reply: Buffer | undefined) => {
    if (done) return;
    done = true;
    conn.destroy();
    if (reply) cb(reply);
    else forwardTcp(query, servers, cb, i + 1);
  };
  conn.setTimeout(FORWARD_TIMEOUT_MS, () => finish(undefined));
  conn.on('error', () => finish(undefined));
  conn.on('close', () => finish(undefined));
  conn.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length > MAX_TCP_MESSAGE + 2) return finish(undefined);
    if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
  });
  const len = Buffer.alloc(2);
  len.writeUInt16BE(query.length);
  conn.write(Buffer.concat([len, query]));
}
