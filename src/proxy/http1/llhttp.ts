// The one door to Node's private `_http_common` (ADR 0027): the llhttp parser Node's own http module
// uses, for the lean relay. Its shape is checked once at load, so a Node release that changes it
// stops the proxy at start with this message instead of failing requests.
import { createRequire } from 'node:module';

export interface LlhttpModule {
  HTTPParser: any;
  methods: string[];
  /** Called with the headers so far when a head has more fields than the parser holds (32); then kOnHeadersComplete gets none. */
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const require = createRequire(import.meta.url);

/** Loads `_http_common` (or what `load` returns) and checks what the relay relies on; throws a readable error otherwise. */
export function loadLlhttp(load: () => unknown = () => require('_http_common')): LlhttpModule {
  let mod: { HTTPParser?: any; methods?: unknown };
  try {
    mod = load() as typeof mod;
  } catch (e) {
    throw new Error(`the HTTP/1.1 relay needs Node's internal _http_common, which this Node (${process.version}) does not provide: ${(e as Error).message} (ADR 0027)`, { cause: e });
  }
  const P = mod.HTTPParser;
  const missing = [
    typeof P !== 'function' && 'HTTPParser',
    !Array.isArray(mod.methods) && 'methods',
    typeof P?.REQUEST !== 'number' && 'HTTPParser.REQUEST',
    typeof P?.RESPONSE !== 'number' && 'HTTPParser.RESPONSE',
    typeof P?.kOnHeaders !== 'number' && 'HTTPParser.kOnHeaders',
    typeof P?.kOnHeadersComplete !== 'number' && 'HTTPParser.kOnHeadersComplete',
    typeof P?.kOnBody !== 'number' && 'HTTPParser.kOnBody',
    typeof P?.kOnMessageComplete !== 'number' && 'HTTPParser.kOnMessageComplete',
    typeof P?.prototype?.initialize !== 'function' && 'HTTPParser#initialize',
    typeof P?.prototype?.execute !== 'function' && 'HTTPParser#execute',
  ].filter(Boolean);
  if (missing.length) throw new Error(`Node ${process.version}'s internal _http_common lacks ${missing.join(', ')}, which the HTTP/1.1 relay uses (ADR 0027): run the proxy on a Node release its tests pass on`);
  return { HTTPParser: P, methods: mod.methods as string[], kOnHeaders: P.kOnHeaders, kOnHeadersComplete: P.kOnHeadersComplete, kOnBody: P.kOnBody, kOnMessageComplete: P.kOnMessageComplete };
}
