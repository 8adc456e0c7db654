// Live request events for tap: publishing costs one boolean check when nobody listens.
import type { TapEventFields } from '../../api/model.js';

export type TapEventData = TapEventFields;

export interface TapFilter {
  method?: string;
  pathPrefix?: string;
  authority?: string;
}

interface Subscriber {
  filter: TapFilter;
  push: (e: TapEventData) => void;
}

export class TapHub {
  /** Hot paths check this before building an event. */
  active = false;
  private readonly subscribers = new Set<Subscriber>();

  subscribe(filter: TapFilter, push: (e: TapEventData) => void): () => void {
    const s = { filter, push };
    this.subscribers.add(s);
    this.active = true;
    return () => {
      this.subscribers.delete(s);
      this.active = this.subscribers.size > 0;
    };
  }

  publish(e: TapEventData): void {
    for (const s of this.subscribers) {
      const f = s.filter;
      if (f.method && f.method !== e.method) continue;
      if (f.pathPrefix && !e.path.startsWith(f.pathPrefix)) continue;
      if (f.authority && f.authority !== e.authority) continue;
      s.push(e);
    }
  }
}
