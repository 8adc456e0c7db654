// Prometheus text metrics of a control-plane gRPC service (streams, updates, overflows, lookup
// errors, informer restarts). `text()` renders the exposition format; the lead serves it.

export class ServiceMetrics {
  streamsOpen = 0;
  streamsTotal = 0;
  updatesSent = 0;
  overflows = 0;
  lookupErrors = 0;
  permissionDenied = 0;

  constructor(
    readonly service: 'destination' | 'policy',
    private readonly informerRestarts: () => number = () => 0,
  ) {}

  text(): string {
    const p = `outpost_${this.service}`;
    const rows: [string, 'gauge' | 'counter', string, number][] = [
      [`${p}_streams_open`, 'gauge', 'Streams currently open.', this.streamsOpen],
      [`${p}_streams_total`, 'counter', 'Streams opened since start.', this.streamsTotal],
      [`${p}_updates_sent_total`, 'counter', 'Messages queued to streams.', this.updatesSent],
      [`${p}_stream_overflows_total`, 'counter', 'Streams closed because the client did not read its bounded queue.', this.overflows],
      [`${p}_lookup_errors_total`, 'counter', 'Requests refused: bad argument, unknown object or timeout.', this.lookupErrors],
      [`${p}_permission_denied_total`, 'counter', 'Requests refused for the caller identity.', this.permissionDenied],
      [`${p}_informer_restarts_total`, 'counter', 'API watches restarted after an error.', this.informerRestarts()],
    ];
    return rows.map(([name, type, help, v]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${v}\n`).join('');
  }
}
