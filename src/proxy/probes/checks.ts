// One check of one probe against the local app on 127.0.0.1: HTTP GET (2xx/3xx), TCP connect, gRPC
// health (SERVING), exec (exit 0). Every check is bounded by the probe's timeout on the injected Clock.
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import type { Clock } from '../../core/clock.js';
import { OUTPOST_VERSION } from '../../core/version.js';
import type { ProbeAction } from './spec.js';
import { GrpcHealthChecker } from './grpc-health.js';

export interface CheckOutcome {
  success: boolean;
  /** Why it failed (or what it saw), for humans. */
  message: string;
}

const LOCAL_APP = '127.0.0.1';
const MAX_OUTPUT = 1_024;

/** Shared resources of a probe (a reused gRPC client); close() when the probe stops. */
export interface CheckContext {
  clock: Clock;
  grpc?: GrpcHealthChecker;
}

/** Runs `action` once; never rejects. */
export function runCheck(action: ProbeAction, timeoutMs: number, ctx: CheckContext): Promise<CheckOutcome> {
  let abort: () => void = () => {};
  const attempt = new Promise<CheckOutcome>((resolve) => {
    const started = startCheck(action, ctx, resolve);
    abort = started;
  });
  return new Promise<CheckOutcome>((resolve) => {
    const timer = ctx.clock.setTimeout(() => {
      abort();
      resolve({ success: false, message: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    void attempt.then((outcome) => {
      ctx.clock.clearTimeout(timer);
      resolve(outcome);
    });
  });
}

/** Starts the check and returns a function that aborts it. */
function startCheck(action: ProbeAction, ctx: CheckContext, done: (o: CheckOutcome) => void): () => void {
  switch (action.kind) {
    case 'http':
      return httpGet(action, done);
    case 'tcp':
      return tcpConnect(action.port, done);
    case 'grpc':
      return grpcHealth(ctx.grpc ?? new GrpcHealthChecker(action.port), action.service, done, !ctx.grpc);
    case 'exec':
      return execCommand(action.command, done);
  }
}

function httpGet(action: Extract<ProbeAction, { kind: 'http' }>, done: (o: CheckOutcome) => void): () => void {
  const lib = action.scheme === 'https' ? https : http;
  // Like the kubelet: no keep-alive, a recognisable User-Agent, and HTTPS without certificate verification.
  const req = lib.request({
    host: LOCAL_APP,
    port: action.port,
    path: action.path,
    method: 'GET',
    agent: false,
    rejectUnauthorized: false,
    headers: { 'user-agent': `outpost-probe/${OUTPOST_VERSION}`, accept: '*/*', connection: 'close', ...action.headers },
  });
  req.on('response', (res) => {
    const status = res.statusCode ?? 0;
    res.resume();
    res.on('error', () => {});
    done(status >= 200 && status < 400 ? { success: true, message: `HTTP ${status}` } : { success: false, message: `HTTP GET ${action.path} returned ${status}` });
  });
  req.on('error', (e) => done({ success: false, message: `HTTP GET ${action.path} failed: ${describeNetError(e)}` }));
  req.end();
  return () => req.destroy();
}

function tcpConnect(port: number, done: (o: CheckOutcome) => void): () => void {
  const socket = net.connect({ host: LOCAL_APP, port });
  socket.once('connect', () => {
    socket.destroy();
    done({ success: true, message: 'connected' });
  });
  socket.once('error', (e) => done({ success: false, message: `TCP connect to port ${port} failed: ${describeNetError(e)}` }));
  return () => socket.destroy();
}

function grpcHealth(checker: GrpcHealthChecker, service: string, done: (o: CheckOutcome) => void, closeAfter: boolean): () => void {
  const { result, cancel } = checker.check(service);
  result.then(
    (status) => done(status === 'SERVING' ? { success: true, message: 'SERVING' } : { success: false, message: `gRPC health${service ? ` of ${service}` : ''} is ${status}` }),
    (e: Error) => done({ success: false, message: `gRPC health check failed: ${e.message}` }),
  ).finally(() => {
    if (closeAfter) checker.close();
  });
  return cancel;
}

function execCommand(command: string[], done: (o: CheckOutcome) => void): () => void {
  let output = '';
  // Its own process group, so a timeout kills what the command started too (e.g. under `sh -c`).
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const collect = (chunk: Buffer) => {
    if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  child.once('error', (e) => done({ success: false, message: `exec ${command[0]} failed: ${e.message}` }));
  child.once('close', (code, signal) => {
    const out = output.trim();
    if (code === 0) done({ success: true, message: out || 'exit 0' });
    else done({ success: false, message: `exec ${command[0]} exited with ${signal ?? code}${out ? `: ${out}` : ''}` });
  });
  return () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
}

function describeNetError(e: Error & { code?: string }): string {
  return e.code ? `${e.code}` : e.message;
}
