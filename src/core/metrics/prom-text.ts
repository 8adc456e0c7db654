// Parses the Prometheus text exposition format (0.0.4) into samples, the reverse of registry.ts:
// what the viz and the demo read from proxies' /metrics. `keep` drops families early, so a scrape
// of a busy proxy costs little.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetricsText(text: string, keep: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
    if (nameEnd <= 0) continue;
    const name = line.slice(0, nameEnd);
    if (!keep(name)) continue;
    let labels: Record<string, string> = {};
    let rest: string;
    if (line[nameEnd] === '{') {
      const parsed = parseLabels(line, nameEnd + 1);
      if (!parsed) continue;
      labels = parsed.labels;
      rest = line.slice(parsed.end + 1);
    } else rest = line.slice(nameEnd);
    const valueText = rest.trim().split(/\s+/)[0];
    const value = parseValue(valueText);
    if (value === undefined) continue;
    out.push({ name, labels, value });
  }
  return out;
}

function parseValue(s: string | undefined): number | undefined {
  if (!s) return undefined;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

/** Parses `a="x",b="y\"z"}` from position i; returns the index of the closing brace. */
function parseLabels(line: string, i: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i };
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"') return undefined;
    const key = line.slice(i, eq).trim();
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = line[j];
      if (c === undefined) return undefined;
      if (c === '\\') {
        const n = line[j + 1];
        value += n === 'n' ? '\n' : n;
        j += 2;
        continue;
      }
      if (c === '"') break;
      value += c;
      j++;
    }
    labels[key] = value;
    i = j + 1;
  }
}

/** The labels of `name{a="x",...}` text starting after the brace; undefined when malformed. */
export function parseLabelText(text: string, from: number): Record<string, string> | undefined {
  return parseLabels(text, from)?.labels;
}
