// The storage interface behind the embedded API server. SQLite implements it today; an etcd
// backend can implement it later. The store knows nothing of Kubernetes semantics beyond
// resourceVersion: uid, generation, defaulting and validation belong to the API server.
//
// resourceVersion is one global, monotonic counter. Every create, update and delete bumps it and
// stores the new value in metadata.resourceVersion (a decimal string). Writes resolve only once
// they are durable (group commit is allowed: many writes may share one fsync).

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Identifies a collection: group ('' for core) and plural resource name, e.g. {group:'', resource:'services'}. */
export interface ResourceRef {
  group: string;
  resource: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  /** The revision at which this event happened (equals the object's resourceVersion). */
  revision: number;
  ref: ResourceRef;
  namespace: string; // '' for cluster-scoped
  name: string;
  object: KubeObject;
  /** The previous state, for MODIFIED and DELETED (lets a watch with a selector emit DELETED when an object stops matching). */
  previous?: KubeObject;
}

export interface ListOptions {
  /** Restrict to one namespace; undefined means all namespaces. */
  namespace?: string;
  /** A predicate applied before paging (label and field selectors). */
  filter?: (obj: KubeObject) => boolean;
  limit?: number;
  /** Opaque token from a previous page's `continue`. */
  continue?: string;
  /** List as of this past revision (resourceVersionMatch=Exact); fails 'Expired' when compacted. */
  revision?: number;
}

export interface ListResult {
  items: KubeObject[];
  /** The revision the list is consistent with. */
  revision: number;
  /** Present when more items remain. */
  continue?: string;
}

export interface WatchOptions {
  namespace?: string;
  /** Deliver every event with revision > fromRevision. Undefined: only live events. */
  fromRevision?: number;
}

export interface WatchHandle {
  close(): void;
}

export interface Store {
  /** The latest committed revision. */
  revision(): number;
  get(ref: ResourceRef, namespace: string, name: string): KubeObject | undefined;
  list(ref: ResourceRef, opts?: ListOptions): ListResult;
  /** Fails with StoreError 'AlreadyExists' if the name is taken. Sets metadata.resourceVersion. */
  create(ref: ResourceRef, obj: KubeObject): Promise<KubeObject>;
  /** Replaces the object. With expectedRevision, fails with 'Conflict' if the stored one differs. Fails 'NotFound'. */
  update(ref: ResourceRef, obj: KubeObject, expectedRevision?: number): Promise<KubeObject>;
  /** Removes the object; resolves to its last state with the deletion's revision. Fails 'NotFound'. */
  delete(ref: ResourceRef, namespace: string, name: string, expectedRevision?: number): Promise<KubeObject>;
  /**
   * Streams events. Listeners must not block: they are called synchronously after commit, so a
   * slow consumer must queue (bounded) on its own side. Fails with 'Expired' when fromRevision is
   * older than the compacted history.
   */
  watch(ref: ResourceRef, opts: WatchOptions, listener: (e: StoreEvent) => void): WatchHandle;
  /** The oldest revision still replayable by watch. */
  oldestRevision(): number;
  /** Drops history older than the newest `keep` events. */
  compact(keep: number): void;
  close(): void;
}

export type StoreErrorReason = 'AlreadyExists' | 'NotFound' | 'Conflict' | 'Expired';

export class StoreError extends Error {
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
    /** For Expired: the oldest revision still available. */
    readonly oldestRevision?: number,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
