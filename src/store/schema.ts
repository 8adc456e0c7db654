// The SQLite schema of the store and its prepared statements: objects (current state), events
// (the bounded watch log) and meta (the persisted revision counter and compaction mark).
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
  grp TEXT NOT NULL, resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  rev INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (grp, resource, namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  rev INTEGER PRIMARY KEY, type TEXT NOT NULL,
  grp TEXT NOT NULL, resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  data TEXT NOT NULL, previous TEXT
);
`;

export interface ObjectRow {
  grp: string;
  resource: string;
  namespace: string;
  name: string;
  rev: number;
  data: string;
}

export interface EventRow {
  rev: number;
  type: string;
  grp: string;
  resource: string;
  namespace: string;
  name: string;
  data: string;
  previous: string | null;
}

export interface Statements {
  upsertObject: Database.Statement<[string, string, string, string, number, string]>;
  deleteObject: Database.Statement<[string, string, string, string]>;
  insertEvent: Database.Statement<[number, string, string, string, string, string, string, string | null]>;
  setMeta: Database.Statement<[string, number]>;
  getMeta: Database.Statement<[string], { value: number }>;
  allObjects: Database.Statement<[], ObjectRow>;
  eventsAfter: Database.Statement<[number, string, string], EventRow>;
  eventsAfterInNamespace: Database.Statement<[number, string, string, string], EventRow>;
  countEvents: Database.Statement<[], { n: number }>;
  maxEventRev: Database.Statement<[], { r: number | null }>;
  deleteEventsUpTo: Database.Statement<[number]>;
}

/** Sets durability pragmas, creates the tables and prepares every statement. */
export function initSchema(db: Database.Database): Statements {
  db.pragma('journal_mode = WAL');
  // FULL: the WAL is fsynced at every commit, so an acknowledged write survives kill -9 and power
  // loss. Group commit (one transaction per event-loop tick) keeps the fsync count low.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(DDL);
  const s: Statements = {
    upsertObject: db.prepare(
      'INSERT INTO objects (grp, resource, namespace, name, rev, data) VALUES (?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (grp, resource, namespace, name) DO UPDATE SET rev = excluded.rev, data = excluded.data',
    ),
    deleteObject: db.prepare('DELETE FROM objects WHERE grp = ? AND resource = ? AND namespace = ? AND name = ?'),
    insertEvent: db.prepare(
      'INSERT INTO events (rev, type, grp, resource, namespace, name, data, previous) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    allObjects: db.prepare('SELECT grp, resource, namespace, name, rev, data FROM objects'),
    eventsAfter: db.prepare(
      'SELECT * FROM events WHERE rev > ? AND grp = ? AND resource = ? ORDER BY rev',
    ),
    eventsAfterInNamespace: db.prepare(
      'SELECT * FROM events WHERE rev > ? AND grp = ? AND resource = ? AND namespace = ? ORDER BY rev',
    ),
    countEvents: db.prepare('SELECT count(*) AS n FROM events'),
    maxEventRev: db.prepare('SELECT max(rev) AS r FROM events'),
    deleteEventsUpTo: db.prepare('DELETE FROM events WHERE rev <= ?'),
  };
  const version = s.getMeta.get('schema')?.value;
  if (version === undefined) s.setMeta.run('schema', SCHEMA_VERSION);
  else if (version > SCHEMA_VERSION) {
    throw new Error(`store schema version ${version} is newer than this Outpost understands (${SCHEMA_VERSION})`);
  }
  return s;
}
