// Streams watch events over one HTTP response: headers flushed at once, then one JSON event per
// line. Replays from a resourceVersion (or sends synthetic ADDED for the current state), turns
// selector transitions into ADDED/DELETED, sends bookmarks when asked, answers ERROR 410 when the
// history is compacted, and ends on timeoutSeconds, client disconnect or server shutdown.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { StoreError, type KubeObject, type ResourceRef, type Store, type StoreEvent, type WatchHandle } from '../../store/types.js';
import { expired } from '../server/status.js';

/** How often a BOOKMARK is sent to watchers that allow them (kube-apiserver sends about one a minute). */
export const BOOKMARK_INTERVAL_MS = 60_000;
/** A watcher whose unsent output exceeds this is too slow: its stream is ended (clients re-watch). */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface WatchRequest {
  ref: ResourceRef;
  namespace?: string;
  /** Label/field selectors (storage-version objects). */
  matches(obj: KubeObject): boolean;
  /** resourceVersion from the query ('' or '0': start with the current state). */
  resourceVersion: string;
  allowBookmarks: boolean;
  /**
   * sendInitialEvents=true (a streaming list): the current state as ADDED events whatever the
   * resourceVersion, then a BOOKMARK annotated k8s.io/initial-events-end, then changes.
   */
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  contentType: string;
  /** Renders a stored object for the wire (version conversion, Table). `first` is true for the first event. */
  render(obj: KubeObject, first: boolean): unknown;
  /** The BOOKMARK object's apiVersion and kind (required by client-go). */
  bookmarkType: { apiVersion: string; kind: string };
  /**
   * Set when render() depends only on the object (not on `first`): watchers with the same key
   * share one serialization of each event instead of each stringifying it.
   */
  shareKey?: string;
}

/** Serialized event lines by stored object (store events hand every watcher the same object). */
const sharedLines = new WeakMap<KubeObject, Map<string, string>>();

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** The event a selector-filtered watcher sees for a store event, if any (pure). */
export function filteredEventType(e: Pick<StoreEvent, 'type' | 'object' | 'previous'>, matches: (o: KubeObject) => boolean): EventType | undefined {
  const now = matches(e.object);
  if (e.type === 'ADDED') return now ? 'ADDED' : undefined;
  if (e.type === 'DELETED') return now ? 'DELETED' : undefined;
  const before = e.previous ? matches(e.previous) : now;
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return undefined;
}

/** Per stored object, the state a watcher is shown when that update took the object out of its selection. */
const leftSelection = new WeakMap<KubeObject, KubeObject>();

/**
 * An object that stopped matching a watch's selector is shown DELETED with its previous content
 * (what the watcher last matched) at the update's resourceVersion, as kube-apiserver does.
 */
function lastMatchingState(current: KubeObject, previous: KubeObject): KubeObject {
  let shown = leftSelection.get(current);
  if (!shown) leftSelection.set(current, (shown = { ...previous, metadata: { ...previous.metadata, resourceVersion: current.metadata.resourceVersion } }));
  return shown;
}

export interface WatchTracker {
  add(close: () => void): () => void;
  count(): number;
}

/** Open watches allowed at once; past this, new watches get 429 and clients retry. */
export const MAX_OPEN_WATCHES = 10_000;

/** Keeps the open watches so that server shutdown can end them. */
export function watchTracker(): WatchTracker & { closeAll(): void; count(): number } {
  const open = new Set<() => void>();
  return {
    add(close) {
      open.add(close);
      return () => open.delete(close);
    },
    closeAll() {
      for (const close of [...open]) close();
    },
    count: () => open.size,
  };
}

export function serveWatch(store: Store, clock: Clock, tracker: WatchTracker, req: IncomingMessage, res: ServerResponse, w: WatchRequest): void {
  res.writeHead(200, { 'Content-Type': w.contentType, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  let first = true;
  let ended = false;
  let handle: WatchHandle | undefined;
  const timers: TimerHandle[] = [];
  const end = () => {
    if (ended) return;
    ended = true;
    handle?.close();
    for (const t of timers) clock.clearTimeout(t);
    untrack();
    res.end();
  };
  const untrack = tracker.add(end);
  let corked = false;
  const writeLine = (line: string) => {
    if (ended) return;
    // Events committed together (group commit) leave in one TLS record and one syscall.
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(line);
    if (res.writableLength > MAX_BUFFERED_BYTES) end();
  };
  const send = (type: string, object: unknown) => writeLine(JSON.stringify({ type, object }) + '\n');
  const sendObject = (type: EventType, obj: KubeObject) => {
    if (ended) return;
    if (w.shareKey !== undefined) {
      let lines = sharedLines.get(obj);
      if (!lines) sharedLines.set(obj, (lines = new Map()));
      const key = `${type} ${w.shareKey}`;
      let line = lines.get(key);
      if (line === undefined) lines.set(key, (line = JSON.stringify({ type, object: w.render(obj, first) }) + '\n'));
      writeLine(line);
      return;
    }
    const rendered = w.render(obj, first);
    first = false;
    send(type, rendered);
  };
  req.on('close', end);
  res.on('close', end);
  res.on('error', end);

  let from: number;
  if (w.sendInitialEvents || w.resourceVersion === '' || w.resourceVersion === '0') {
    const current = store.list(w.ref, { namespace: w.namespace, filter: w.matches });
    for (const obj of current.items) sendObject('ADDED', obj);
    from = current.revision;
    if (w.sendInitialEvents) {
      const metadata = { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } };
      send('BOOKMARK', { kind: w.bookmarkType.kind, apiVersion: w.bookmarkType.apiVersion, metadata });
    }
  } else {
    from = Number(w.resourceVersion);
  }
  try {
    handle = store.watch(w.ref, { namespace: w.namespace, fromRevision: from }, (e) => {
      const type = filteredEventType(e, w.matches);
      if (type === 'DELETED' && e.type === 'MODIFIED' && e.previous) sendObject(type, lastMatchingState(e.object, e.previous));
      else if (type) sendObject(type, e.object);
    });
  } catch (e) {
    if (e instanceof StoreError && e.reason === 'Expired') {
      send('ERROR', expired(from, e.oldestRevision ?? store.oldestRevision()).toStatus());
      end();
      return;
    }
    throw e;
  }
  if (ended) handle.close();
  if (w.allowBookmarks) {
    const bookmark = () => {
      if (ended) return;
      send('BOOKMARK', { kind: w.bookmarkType.kind, apiVersion: w.bookmarkType.apiVersion, metadata: { resourceVersion: String(store.revision()) } });
      timers[0] = clock.setTimeout(bookmark, BOOKMARK_INTERVAL_MS);
    };
    timers.push(clock.setTimeout(bookmark, BOOKMARK_INTERVAL_MS));
  }
  if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) timers.push(clock.setTimeout(end, w.timeoutSeconds * 1000));
}
