// One raw HTTPS request as the API tests make it: a JSON (or raw) body, the whole reply collected,
// parsed as JSON when it is JSON. Used against the embedded API and a real kube-apiserver alike.
import { request, type RequestOptions } from 'node:https';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** The request body: `raw` as it is, else `body` as JSON, else none. */
export function requestBody(opts: { body?: unknown; raw?: Buffer | string }): Buffer | undefined {
  return opts.raw !== undefined ? Buffer.from(opts.raw) : opts.body !== undefined ? Buffer.from(JSON.stringify(opts.body)) : undefined;
}

/** Sends `body` with `options` and resolves with the complete reply; `timeoutMs` fails a reply that never ends. */
export function httpsReply(options: RequestOptions, body: Buffer | undefined, timeoutMs?: number): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no complete reply to ${options.method} ${options.path} within ${timeoutMs / 1000} s`)));
    if (body) req.write(body);
    req.end();
  });
}
