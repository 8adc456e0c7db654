// Shares of a proxy's CPU samples by category, from `perf script -F ip,sym,dso` output (bench/proxy/profile.sh):
// each sample's leaf frame is its self time, put in one category (kernel, OpenSSL, V8 GC, JS of Outpost ...).
// Run: node --import tsx bench/proxy/profile-report.ts LABEL STACKS_FILE
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The category of a sample from its leaf symbol (perf's name for it; JIT frames come from --perf-basic-prof). */
export function categoryOf(sym: string): string {
  if (sym.startsWith(GC_THREAD)) return 'V8 garbage collection';
  if (/\(\[kernel/.test(sym)) return 'kernel (TCP, syscalls, scheduler)';
  if (sym.startsWith('JS:')) return /file:\/\/\/.*\/dist\//.test(sym) ? 'JavaScript: Outpost' : 'JavaScript: Node core (streams, net, timers)';
  if (/Scaveng|Heap::|Heap_|MarkCompact|Sweep|GCTracer|GlobalBackingStore|Evacuat|Marking|IncrementalMark|MinorMC|RecordWrite|WriteBarrier|ConcurrentMark/.test(sym)) return 'V8 garbage collection';
  if (!sym.includes('node::') && /ssl|tls1|tls_|aes|gcm|EVP_|ossl_|CRYPTO_|BIO_|OPENSSL|sha\d|ecp_|bn_|x25519|poly1305|chacha|ERR_/i.test(sym)) return 'OpenSSL (TLS records)';
  if (/llhttp|node::\(anonymous namespace\)::Parser/.test(sym)) return 'llhttp (HTTP/1 parsing, C)';
  if (/malloc|free|_int_|unlink_chunk|memmove|memcpy|memset|realloc|calloc|consolidate/.test(sym)) return 'malloc, memcpy (libc)';
  if (/^Builtins_|v8::|Runtime_/.test(sym)) return 'V8 runtime (ICs, calls into JS, strings)';
  if (/node::|uv_|uv__/.test(sym)) return 'Node C++ and libuv (TLSWrap, StreamBase, handles)';
  return 'other';
}

/** Marks a sample taken on one of V8's background GC threads (parallel scavenge, concurrent marking), whatever its leaf. */
const GC_THREAD = '[gc thread] ';

/**
 * Samples from `perf script -F ip,sym,dso`: blank-line separated stacks, leaf first; returns each
 * sample's leaf "symbol (dso)", prefixed with GC_THREAD when the stack is a V8 platform worker's.
 */
export function leafSymbols(text: string): string[] {
  const leaves: string[] = [];
  let stack: string[] = [];
  const flush = () => {
    if (stack.length) leaves.push((stack.some((f) => f.includes('PlatformWorkerThread')) ? GC_THREAD : '') + stack[0]);
    stack = [];
  };
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) flush();
    else stack.push(t.split(/\s+/).slice(1).join(' ').replace(/\+0x[0-9a-f]+(?= \()/, '') || '?');
  }
  flush();
  return leaves;
}

export function report(label: string, leaves: string[]): string {
  const by = new Map<string, number>();
  const js = new Map<string, number>();
  for (const s of leaves) {
    const c = categoryOf(s);
    by.set(c, (by.get(c) ?? 0) + 1);
    if (c.startsWith('JavaScript')) {
      const file = /(file:\/\/\/\S+|node:\S+?):\d+:\d+/.exec(s)?.[1]?.replace(/^file:\/\/\/.*\/dist\//, '') ?? '?';
      js.set(file, (js.get(file) ?? 0) + 1);
    }
  }
  const pct = (n: number) => `${((100 * n) / leaves.length).toFixed(1)} %`;
  const lines = [`${label}: ${leaves.length} samples of CPU time`, '| category | share |', '|---|---:|'];
  for (const [c, n] of [...by].sort((a, b) => b[1] - a[1])) lines.push(`| ${c} | ${pct(n)} |`);
  lines.push(`JavaScript by file: ${[...js].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([f, n]) => `${f} ${pct(n)}`).join(', ')}`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [label, file] = process.argv.slice(2);
  if (!label || !file) {
    console.error('usage: profile-report.ts LABEL STACKS_FILE (perf script -F ip,sym,dso output)');
    process.exit(2);
  }
  console.log(report(label, leafSymbols(readFileSync(file, 'utf8'))));
}
