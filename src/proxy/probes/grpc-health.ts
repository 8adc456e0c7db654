// A minimal grpc.health.v1.Health/Check client. The two messages are tiny, so they are encoded by hand
// (no .proto to ship next to dist/): HealthCheckRequest{string service = 1}, HealthCheckResponse{enum status = 1}.
import * as grpc from '@grpc/grpc-js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

export function encodeHealthCheckRequest(service: string): Buffer {
  const bytes = Buffer.from(service, 'utf8');
  if (bytes.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(bytes.length), bytes]);
}

/** The status number of a HealthCheckResponse; unknown fields are skipped. */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let i = 0;
  let status = 0;
  while (i < buf.length) {
    const [tag, afterTag] = decodeVarint(buf, i);
    i = afterTag;
    const wireType = tag & 7;
    if (wireType === 0) {
      const [value, next] = decodeVarint(buf, i);
      if (tag >>> 3 === 1) status = value;
      i = next;
    } else if (wireType === 2) {
      const [len, next] = decodeVarint(buf, i);
      i = next + len;
    } else if (wireType === 1) i += 8;
    else if (wireType === 5) i += 4;
    else throw new Error(`malformed HealthCheckResponse (wire type ${wireType})`);
  }
  return status;
}

function encodeVarint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function decodeVarint(buf: Buffer, at: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (let i = at; i < buf.length && shift < 35; i++) {
    result |= (buf[i] & 0x7f) << shift;
    if ((buf[i] & 0x80) === 0) return [result >>> 0, i + 1];
    shift += 7;
  }
  throw new Error('malformed varint in HealthCheckResponse');
}

const HealthClient = grpc.makeGenericClientConstructor(
  {
    check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (service: string) => encodeHealthCheckRequest(service),
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => decodeHealthCheckResponse(b),
    },
  },
  'grpc.health.v1.Health',
);

type UnaryCheck = (service: string, callback: (err: grpc.ServiceError | null, status?: number) => void) => grpc.ClientUnaryCall;

/** One plaintext client per probed local port, reused across checks. */
export class GrpcHealthChecker {
  private readonly client: grpc.Client;

  constructor(port: number) {
    this.client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1_000 });
  }

  /** Calls Check; `cancel` aborts it. Resolves with SERVING / NOT_SERVING / ..., rejects on an RPC error. */
  check(service: string): { result: Promise<string>; cancel: () => void } {
    let call: grpc.ClientUnaryCall | undefined;
    const result = new Promise<string>((resolve, reject) => {
      call = (this.client as unknown as { check: UnaryCheck }).check(service, (err, status) => {
        if (err) reject(new Error(`gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}`));
        else resolve(SERVING_STATUS[status ?? 0] ?? `status ${status}`);
      });
    });
    return { result, cancel: () => call?.cancel() };
  }

  close(): void {
    this.client.close();
  }
}
