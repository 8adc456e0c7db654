// Ref-counted sharing of one control-plane stream among every local user of the same key (an
// authority, a port): the first acquire opens it, the last release closes it. Each handle's
// listeners are removed when it is released, and a closed registry hands out inert handles.

/** What one shared stream offers: its latest value, the listeners to tell, and how to stop it. */
export interface SharedSource<V> {
  current(): V | undefined;
  readonly listeners: Set<(v: V) => void>;
  close(): void;
}

export interface SharedHandle<V> {
  current(): V | undefined;
  subscribe(listener: (v: V) => void): () => void;
  close(): void;
}

export class SharedWatches<K, V> {
  private readonly entries = new Map<K, { source: SharedSource<V>; refs: number }>();
  private closed = false;

  constructor(private readonly open: (key: K) => SharedSource<V>) {}

  acquire(key: K): SharedHandle<V> {
    // After close (e.g. during shutdown) a handle never answers, rather than a throw.
    if (this.closed) return { current: () => undefined, subscribe: () => () => {}, close: () => {} };
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { source: this.open(key), refs: 0 }));
    entry.refs++;
    const mine = entry;
    const listeners = new Set<(v: V) => void>();
    let released = false;
    return {
      current: () => mine.source.current(),
      subscribe: (listener) => {
        const wrapped = (v: V) => listener(v);
        listeners.add(wrapped);
        mine.source.listeners.add(wrapped);
        return () => {
          listeners.delete(wrapped);
          mine.source.listeners.delete(wrapped);
        };
      },
      close: () => {
        if (released) return;
        released = true;
        for (const l of listeners) mine.source.listeners.delete(l);
        listeners.clear();
        if (--mine.refs === 0 && this.entries.get(key) === mine) {
          this.entries.delete(key);
          mine.source.close();
        }
      },
    };
  }

  /** Number of keys with an open stream (for metrics and tests). */
  get size(): number {
    return this.entries.size;
  }

  closeAll(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { source } of this.entries.values()) {
      source.listeners.clear();
      source.close();
    }
    this.entries.clear();
  }
}
