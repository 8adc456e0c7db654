// SQLite implementation of the Store (better-sqlite3, WAL). Placeholder until the store lands.
import { OutpostError } from '../core/errors.js';
import type { Store } from './types.js';

export interface SqliteStoreOptions {
  /** Events kept for watch resume before compaction (default 100,000). */
  historySize?: number;
}

export function openSqliteStore(_path: string, _opts: SqliteStoreOptions = {}): Store {
  throw new OutpostError('NOT_IMPLEMENTED', 'the SQLite store is not built yet');
}
