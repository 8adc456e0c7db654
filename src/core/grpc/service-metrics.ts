// Prometheus text metrics of a control-plane gRPC service (streams, updates, overflows, lookup
// errors, informer restarts). `text()` renders the exposition format; the lead serves it.
import { Registry } from '../metrics/registry.js';

export class ServiceMetrics {
  streamsOpen = 0;
  streamsTotal = 0;
  updatesSent = 0;
  overflows = 0;
  lookupErrors = 0;
  permissionDenied = 0;
  private readonly registry = new Registry();

  constructor(
    readonly service: 'destination' | 'policy',
    informerRestarts: () => number = () => 0,
  ) {
    const p = `outpost_${service}`;
    const r = this.registry;
    r.read('gauge', `${p}_streams_open`, 'Streams currently open.', () => this.streamsOpen);
    r.read('counter', `${p}_streams_total`, 'Streams opened since start.', () => this.streamsTotal);
    r.read('counter', `${p}_updates_sent_total`, 'Messages queued to streams.', () => this.updatesSent);
    r.read('counter', `${p}_stream_overflows_total`, 'Streams closed because the client did not read its bounded queue.', () => this.overflows);
    r.read('counter', `${p}_lookup_errors_total`, 'Requests refused: bad argument, unknown object or timeout.', () => this.lookupErrors);
    r.read('counter', `${p}_permission_denied_total`, 'Requests refused for the caller identity.', () => this.permissionDenied);
    r.read('counter', `${p}_informer_restarts_total`, 'API watches restarted after an error.', informerRestarts);
  }

  text(): string {
    return this.registry.render();
  }
}
