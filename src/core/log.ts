// Structured logging with a level that can change at run time. Secrets never reach the log:
// fields whose names look secret are redacted.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /token|secret|password|key$|authorization/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
  setLevel(level: LogLevel): void;
  level(): LogLevel;
}

export function isLogLevel(s: string): s is LogLevel {
  return s in LEVELS;
}

interface Sink {
  level: LogLevel;
  format: 'text' | 'json';
  write: (line: string) => void;
}

export function createLogger(opts: { level?: LogLevel; format?: 'text' | 'json'; write?: (line: string) => void } = {}): Logger {
  const sink: Sink = {
    level: opts.level ?? 'info',
    format: opts.format ?? 'text',
    write: opts.write ?? ((line) => process.stderr.write(line + '\n')),
  };
  return makeLogger(sink, undefined);
}

function makeLogger(sink: Sink, component: string | undefined): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < LEVELS[sink.level]) return;
    const safe = redact(fields);
    if (sink.format === 'json') {
      sink.write(JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...safe }));
    } else {
      const extra = safe ? Object.entries(safe).map(([k, v]) => `${k}=${fmt(v)}`).join(' ') : '';
      sink.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${component ? `[${component}] ` : ''}${msg}${extra ? ' ' + extra : ''}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => makeLogger(sink, component ? `${component}/${c}` : c),
    setLevel: (l) => {
      sink.level = l;
    },
    level: () => sink.level,
  };
}

function redact(fields?: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!fields) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) out[k] = v.message;
    else out[k] = SECRET_FIELD.test(k) && v !== undefined && v !== null && typeof v !== 'boolean' ? '<redacted>' : v;
  }
  return out;
}

function fmt(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** A logger that discards everything, for tests and library defaults. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
