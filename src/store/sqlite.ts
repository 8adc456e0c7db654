// SQLite implementation of the Store (better-sqlite3, WAL, synchronous=FULL): current objects are
// cached in memory for fast reads; SQLite is the durable log. Writes issued in one event-loop tick
// share one transaction and one fsync (group commit); each write's promise resolves after its commit.
import Database from 'better-sqlite3';
import { packagedAddon } from '../core/packaged.js';
import { initSchema, type EventRow, type Statements } from './schema.js';
import { decodeContinue, deepFreeze, identify, objectKey, qualifiedResource, refKey } from './keys.js';
import { eventsAfter, listPage, stateAt } from './list.js';
import { OutpostError } from '../core/errors.js';
import {
  StoreError,
  type KubeObject,
  type ListOptions,
  type ListResult,
  type ResourceRef,
  type Store,
  type StoreEvent,
  type WatchEventType,
  type WatchHandle,
  type WatchOptions,
} from './types.js';

export { StoreInputError } from './keys.js';

export interface SqliteStoreOptions {
  /** Events kept for watch resume before compaction (default 100,000). */
  historySize?: number;
  /** Called when a watch listener throws (listeners must not throw). Default: a process warning. */
  onListenerError?: (error: unknown) => void;
}

/** One write of an atomic group (see SqliteStore.atomic). */
export type WriteOp =
  | { op: 'create'; ref: ResourceRef; obj: KubeObject }
  | { op: 'update'; ref: ResourceRef; obj: KubeObject; expectedRevision?: number }
  | { op: 'delete'; ref: ResourceRef; namespace: string; name: string; expectedRevision?: number };

interface Collection {
  objects: Map<string, KubeObject>;
  /** Keys in sort order; null when a create or delete invalidated it (rebuilt lazily by list). */
  sorted: string[] | null;
}

interface PendingWrite {
  event: StoreEvent;
  key: string;
  json: string;
  previousJson: string | null;
}

interface Completion {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Watcher {
  refKey: string;
  namespace: string | undefined;
  /** Live events at or below this revision were already covered by replay. */
  startRev: number;
  listener: (e: StoreEvent) => void;
  closed: boolean;
}

const DEFAULT_HISTORY = 100_000;

/** SQLite's answers for a file that is damaged or not a database at all. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

/** A damaged store file becomes STORE_CORRUPT naming the file and how to recover (docs/errors.md); anything else is rethrown. */
function storeOpenError(path: string, e: unknown): unknown {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !CORRUPT_CODES.has(code)) return e;
  return new OutpostError('STORE_CORRUPT', `the API store ${path} cannot be read: ${(e as Error).message} (${code})`, {
    hint: `stop outpost up, then restore ${path} from a backup, or move it aside (mv ${path} ${path}.corrupt) to start with an empty API and apply your manifests again; see docs/errors.md`,
    cause: e,
  });
}

export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, opts);
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmts: Statements;
  private readonly historySize: number;
  private readonly onListenerError: (error: unknown) => void;
  private committedRev = 0;
  /** The last revision handed out (committed or pending). */
  private allocatedRev = 0;
  private compactedRev = 0;
  private eventCount = 0;
  private readonly collections = new Map<string, Collection>();
  private pending: PendingWrite[] = [];
  private completions: Completion[] = [];
  /** Pending (not yet committed) state by full key; null = deleted. Decides conflicts within a batch. */
  private overlay = new Map<string, KubeObject | null>();
  private flushScheduled = false;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private closed = false;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.historySize = Math.max(1, opts.historySize ?? DEFAULT_HISTORY);
    this.onListenerError =
      opts.onListenerError ?? ((e) => process.emitWarning(`store watch listener threw: ${String(e)}`));
    // The packaged executable carries better-sqlite3's addon as an asset (docs/packaging.md).
    const addon = packagedAddon('better_sqlite3.node');
    try {
      // better-sqlite3 takes the loaded addon object too (its typings say only a path).
      this.db = new Database(path, addon ? { nativeBinding: addon as unknown as string } : undefined);
    } catch (e) {
      throw storeOpenError(path, e);
    }
    try {
      this.stmts = initSchema(this.db);
      this.load();
    } catch (e) {
      this.db.close();
      throw storeOpenError(path, e);
    }
  }

  private load(): void {
    const s = this.stmts;
    let rev = Math.max(s.getMeta.get('revision')?.value ?? 0, s.maxEventRev.get()?.r ?? 0);
    for (const row of s.allObjects.iterate()) {
      rev = Math.max(rev, row.rev);
      const col = this.collection(`${row.grp}/${row.resource}`);
      col.objects.set(objectKey(row.namespace, row.name), deepFreeze(JSON.parse(row.data) as KubeObject));
    }
    this.committedRev = this.allocatedRev = rev;
    this.compactedRev = s.getMeta.get('compacted')?.value ?? 0;
    this.eventCount = s.countEvents.get()?.n ?? 0;
  }

  revision(): number {
    return this.committedRev;
  }

  oldestRevision(): number {
    return this.compactedRev;
  }

  get(ref: ResourceRef, namespace: string, name: string): KubeObject | undefined {
    return this.collections.get(refKey(ref))?.objects.get(objectKey(namespace, name));
  }

  create(ref: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    return this.atomic([{ op: 'create', ref, obj }]).then((r) => r[0]);
  }

  update(ref: ResourceRef, obj: KubeObject, expectedRevision?: number): Promise<KubeObject> {
    return this.atomic([{ op: 'update', ref, obj, expectedRevision }]).then((r) => r[0]);
  }

  delete(ref: ResourceRef, namespace: string, name: string, expectedRevision?: number): Promise<KubeObject> {
    return this.atomic([{ op: 'delete', ref, namespace, name, expectedRevision }]).then((r) => r[0]);
  }

  /**
   * Applies several writes atomically: either every op is accepted (each gets its own revision, in
   * order, and all commit in the same transaction) or the first failing op's StoreError is thrown
   * (as a rejected promise) and none is applied. Later ops see earlier ones (create then update works).
   */
  atomic(ops: WriteOp[]): Promise<KubeObject[]> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const undo: [string, boolean, KubeObject | null | undefined][] = [];
    const firstPending = this.pending.length;
    const firstRev = this.allocatedRev;
    const results: KubeObject[] = [];
    try {
      for (const op of ops) {
        const w = this.plan(op);
        const fk = `${refKey(w.event.ref)}\0${w.key}`;
        undo.push([fk, this.overlay.has(fk), this.overlay.get(fk)]);
        this.overlay.set(fk, w.event.type === 'DELETED' ? null : w.event.object);
        this.pending.push(w);
        results.push(w.event.object);
      }
    } catch (e) {
      for (const [fk, had, value] of undo.reverse()) {
        if (had) this.overlay.set(fk, value as KubeObject | null);
        else this.overlay.delete(fk);
      }
      this.pending.length = firstPending;
      this.allocatedRev = firstRev;
      return Promise.reject(e);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return new Promise((resolve, reject) => this.completions.push({ resolve: () => resolve(results), reject }));
  }

  /** Decides one op against committed + pending state and builds its pending write. */
  private plan(op: WriteOp): PendingWrite {
    const { namespace, name } = op.op === 'delete' ? op : identify(op.obj);
    const key = objectKey(namespace, name);
    const current = this.lookup(op.ref, key);
    const what = `${qualifiedResource(op.ref)} "${name}"`;
    if (op.op === 'create' && current) throw new StoreError('AlreadyExists', `${what} already exists`);
    if (op.op !== 'create') {
      if (!current) throw new StoreError('NotFound', `${what} not found`);
      if (op.expectedRevision !== undefined && Number(current.metadata.resourceVersion) !== op.expectedRevision) {
        throw new StoreError(
          'Conflict',
          `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
    }
    const revision = this.allocatedRev + 1;
    const source = op.op === 'delete' ? (current as KubeObject) : op.obj;
    const json = JSON.stringify({ ...source, metadata: { ...source.metadata, resourceVersion: String(revision) } });
    const object = deepFreeze(JSON.parse(json) as KubeObject);
    this.allocatedRev = revision;
    const type: WatchEventType = op.op === 'create' ? 'ADDED' : op.op === 'update' ? 'MODIFIED' : 'DELETED';
    return {
      event: { type, revision, ref: { group: op.ref.group, resource: op.ref.resource }, namespace, name, object, previous: current },
      key,
      json,
      previousJson: current ? JSON.stringify(current) : null,
    };
  }

  private lookup(ref: ResourceRef, key: string): KubeObject | undefined {
    const rk = refKey(ref);
    const fk = `${rk}\0${key}`;
    if (this.overlay.has(fk)) return this.overlay.get(fk) ?? undefined;
    return this.collections.get(rk)?.objects.get(key);
  }

  /** Commits the pending batch in one transaction, then updates the cache, notifies watchers and resolves. */
  private flush(): void {
    this.flushScheduled = false;
    const writes = this.pending;
    const completions = this.completions;
    if (writes.length === 0) return;
    this.pending = [];
    this.completions = [];
    this.overlay = new Map();
    const lastRev = writes[writes.length - 1].event.revision;
    try {
      this.commit(writes, lastRev);
    } catch (e) {
      this.allocatedRev = this.committedRev;
      for (const c of completions) c.reject(e);
      return;
    }
    this.committedRev = lastRev;
    this.eventCount += writes.length;
    for (const w of writes) this.applyToCache(w);
    for (const w of writes) this.emit(w.event);
    for (const c of completions) c.resolve();
    if (!this.closed && this.eventCount > this.historySize + Math.max(100, this.historySize / 10)) this.compact(this.historySize);
  }

  private commit(writes: PendingWrite[], lastRev: number): void {
    const s = this.stmts;
    this.db.transaction(() => {
      for (const w of writes) {
        const e = w.event;
        if (e.type === 'DELETED') s.deleteObject.run(e.ref.group, e.ref.resource, e.namespace, e.name);
        else s.upsertObject.run(e.ref.group, e.ref.resource, e.namespace, e.name, e.revision, w.json);
        s.insertEvent.run(e.revision, e.type, e.ref.group, e.ref.resource, e.namespace, e.name, w.json, w.previousJson);
      }
      s.setMeta.run('revision', lastRev);
    })();
  }

  private applyToCache(w: PendingWrite): void {
    const col = this.collection(refKey(w.event.ref));
    if (w.event.type === 'DELETED') {
      col.objects.delete(w.key);
      col.sorted = null;
    } else {
      if (w.event.type === 'ADDED') col.sorted = null;
      col.objects.set(w.key, w.event.object);
    }
  }

  private emit(e: StoreEvent): void {
    const set = this.watchers.get(refKey(e.ref));
    if (!set) return;
    for (const w of set) {
      if (w.closed || e.revision <= w.startRev) continue;
      if (w.namespace !== undefined && w.namespace !== e.namespace) continue;
      this.deliver(w, e);
    }
  }

  private deliver(w: Watcher, e: StoreEvent): void {
    try {
      w.listener(e);
    } catch (err) {
      this.onListenerError(err);
    }
  }

  private collection(rk: string): Collection {
    let col = this.collections.get(rk);
    if (!col) {
      col = { objects: new Map(), sorted: null };
      this.collections.set(rk, col);
    }
    return col;
  }

  /**
   * Lists in namespace/name order. A continued page is served at the revision of the first page
   * (the token carries it): objects changed since are shown as they were then, reconstructed from
   * the event log; if that history was compacted the list fails with 'Expired', as Kubernetes does.
   */
  list(ref: ResourceRef, opts: ListOptions = {}): ListResult {
    const col = this.collections.get(refKey(ref));
    let revision = this.committedRev;
    let after: string | undefined;
    if (opts.continue) {
      const token = decodeContinue(opts.continue);
      revision = Math.min(token.rev, this.committedRev);
      after = token.key;
    } else if (opts.revision !== undefined && opts.revision < this.committedRev) {
      if (opts.revision < this.compactedRev) throw new StoreError('Expired', 'The resourceVersion for the provided list is too old.', this.compactedRev);
      revision = opts.revision;
    }
    if (col && !col.sorted) col.sorted = [...col.objects.keys()].sort();
    let keys: readonly string[] = col?.sorted ?? [];
    let read = (k: string): KubeObject | undefined => col?.objects.get(k);
    if (revision < this.committedRev) {
      if (revision < this.compactedRev) {
        throw new StoreError('Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.', this.compactedRev);
      }
      const past = stateAt(this.stmts, ref, revision, opts.namespace);
      if (past.size > 0) {
        keys = [...new Set([...keys, ...past.keys()])].sort();
        read = (k) => (past.has(k) ? (past.get(k) ?? undefined) : col?.objects.get(k));
      }
    }
    return listPage({ keys, read, revision, after, namespace: opts.namespace, filter: opts.filter, limit: opts.limit });
  }

  /**
   * Replays committed events with revision > fromRevision synchronously (before returning), then
   * delivers live events as they commit: no gap, no duplicate. Listeners must not block or throw.
   */
  watch(ref: ResourceRef, opts: WatchOptions, listener: (e: StoreEvent) => void): WatchHandle {
    if (this.closed) throw new Error('the store is closed');
    const from = opts.fromRevision;
    if (from !== undefined && from < this.compactedRev) {
      throw new StoreError('Expired', `too old resource version: ${from} (${this.compactedRev})`, this.compactedRev);
    }
    const rk = refKey(ref);
    const w: Watcher = { refKey: rk, namespace: opts.namespace, startRev: Math.max(this.committedRev, from ?? 0), listener, closed: false };
    if (from !== undefined && from < this.committedRev) {
      // Materialise first: a listener may write, and the new commit must not enter this replay.
      const rows = [...eventsAfter(this.stmts, ref, from, opts.namespace)].filter((r) => r.rev <= w.startRev);
      for (const row of rows) {
        if (w.closed) break;
        this.deliver(w, rowToEvent(ref, row));
      }
    }
    let set = this.watchers.get(rk);
    if (!set) this.watchers.set(rk, (set = new Set()));
    set.add(w);
    return {
      close: () => {
        w.closed = true;
        this.watchers.get(rk)?.delete(w);
      },
    };
  }

  /** Drops history older than the newest `keep` events; watches from before it then get 'Expired'. */
  compact(keep: number): void {
    const cut = this.db
      .prepare<[number], { rev: number }>('SELECT rev FROM events ORDER BY rev DESC LIMIT 1 OFFSET ?')
      .get(Math.max(0, keep));
    const upTo = keep <= 0 ? this.committedRev : cut?.rev;
    if (upTo === undefined || upTo <= this.compactedRev) return;
    this.db.transaction(() => {
      const removed = this.stmts.deleteEventsUpTo.run(upTo).changes;
      this.stmts.setMeta.run('compacted', upTo);
      this.eventCount = Math.max(0, this.eventCount - removed);
    })();
    this.compactedRev = upTo;
  }

  /** Commits any pending writes, stops every watch and closes the database. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    for (const set of this.watchers.values()) for (const w of set) w.closed = true;
    this.watchers.clear();
    this.db.close();
  }
}

function rowToEvent(ref: ResourceRef, row: EventRow): StoreEvent {
  return {
    type: row.type as WatchEventType,
    revision: row.rev,
    ref: { group: ref.group, resource: ref.resource },
    namespace: row.namespace,
    name: row.name,
    object: deepFreeze(JSON.parse(row.data) as KubeObject),
    ...(row.previous !== null ? { previous: deepFreeze(JSON.parse(row.previous) as KubeObject) } : {}),
  };
}

/** True when `e` is a StoreError, optionally with the given reason. */
export function isStoreError(e: unknown, reason?: StoreError['reason']): e is StoreError {
  return e instanceof StoreError && (reason === undefined || e.reason === reason);
}

export { StoreError };
