/**
 * `tessera_http_request_duration_seconds`, by method, route pattern and status class, recorded
 * at the cost of a few array writes per request. prom-client's Histogram.observe hashes its
 * label object on every call (~0.8 µs here); a route's series are made once, when the route is
 * registered (`series(method, route)`), and the request only picks its status class and bucket.
 * The route is always the pattern (`/admin/api/users/:id/lock`), never the URL, and unmatched
 * requests share one series (`route="unmatched"`): label values are a closed set.
 */

/** Seconds; from a cached session check (~0.1 ms) to a slow hash under load (seconds). */
export const REQUEST_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

interface Counts {
  /** Per bucket, not cumulative (the scrape sums them); the last slot is +Inf. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** One route and method: a Counts per status class, made when first needed. */
export class RouteSeries {
  readonly #classes: (Counts | undefined)[] = [undefined, undefined, undefined, undefined, undefined];

  constructor(
    readonly method: string,
    readonly route: string,
  ) {}

  /** `durationMs`: fastify's reply.elapsedTime. */
  record(status: number, durationMs: number): void {
    const index = status >= 100 && status < 600 ? ((status / 100) | 0) - 1 : 4;
    let counts = this.#classes[index];
    if (counts === undefined) {
      counts = { buckets: new Float64Array(REQUEST_BUCKETS.length + 1), sum: 0, count: 0 };
      this.#classes[index] = counts;
    }
    const seconds = durationMs / 1000;
    let bucket = 0;
    while (bucket < REQUEST_BUCKETS.length && seconds > (REQUEST_BUCKETS[bucket] as number)) bucket++;
    (counts.buckets as Float64Array)[bucket] = ((counts.buckets as Float64Array)[bucket] as number) + 1;
    counts.sum += seconds;
    counts.count++;
  }

  *classes(): Generator<[string, Counts]> {
    for (let i = 0; i < STATUS_CLASSES.length; i++) {
      const counts = this.#classes[i];
      if (counts) yield [STATUS_CLASSES[i] as string, counts];
    }
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/**
 * The histogram as prom-client's registry reads a metric (`get()`), so it is scraped with the
 * others; registered with `registry.registerMetric`.
 */
export class RequestDurations {
  readonly name = 'tessera_http_request_duration_seconds';
  readonly help = 'Time from request to response, by method, route pattern and status class.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, RouteSeries>();

  /** The series of one route (made once per route and method, at registration). */
  series(method: string, route: string): RouteSeries {
    const key = `${method} ${route}`;
    let series = this.#series.get(key);
    if (!series) {
      series = new RouteSeries(method, route);
      this.#series.set(key, series);
    }
    return series;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const series of this.#series.values()) {
      for (const [statusClass, counts] of series.classes()) {
        const labels = { method: series.method, route: series.route, status_class: statusClass };
        let cumulative = 0;
        for (let i = 0; i < REQUEST_BUCKETS.length; i++) {
          cumulative += counts.buckets[i] as number;
          values.push({
            value: cumulative,
            labels: { ...labels, le: REQUEST_BUCKETS[i] as number },
            metricName: `${this.name}_bucket`,
          });
        }
        values.push({
          value: counts.count,
          labels: { ...labels, le: '+Inf' },
          metricName: `${this.name}_bucket`,
        });
        values.push({ value: counts.sum, labels, metricName: `${this.name}_sum` });
        values.push({ value: counts.count, labels, metricName: `${this.name}_count` });
      }
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Routes keep their series for the app's life, so a reset has nothing to drop. */
  reset(): void {}
}
