// The service's Prometheus metrics. Each app owns its registry (not prom-client's global one), so that
// several apps in one process, as in the tests, never share or collide on a metric.
import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { POOL_STATS, type PoolStats, type PoolStatsReader } from './pool-stats.js';

/** The label of events that have no log type (they could not be decoded, or named none). */
export const UNKNOWN_LOG_TYPE = 'unknown';
/**
 * Log type names come from the events themselves; past this many distinct ones, the rest share one label
 * so that a sender cannot grow the metrics without bound. (Rule ids are bounded by the stored rules.)
 */
export const MAX_LOG_TYPE_LABELS = 100;
/** The label of log types past MAX_LOG_TYPE_LABELS; no log type name can be spelt like this. */
export const OTHER_LOG_TYPES = '(other)';

export interface EventCounts {
  accepted: number;
  rejected: number;
}

/** What one stored batch did, per rule. */
export interface StoredBatchCounts {
  hitsStored: ReadonlyMap<string, number>;
  alertsOpened: ReadonlyMap<string, number>;
  ruleErrors: ReadonlyMap<string, { count: number }>;
}

const BATCH_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const EVALUATION_SECONDS_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

@Injectable()
export class MetricsService {
  private readonly registry = new Registry();
  private readonly logTypeLabels = new Set<string>();

  private readonly eventsReceived = new Counter({
    name: 'tripline_events_received_total',
    help: 'Events found in ingested batches, by log type (unknown: none could be told)',
    labelNames: ['log_type'],
    registers: [this.registry],
  });
  private readonly eventsAccepted = new Counter({
    name: 'tripline_events_accepted_total',
    help: 'Events accepted and evaluated by the rules, by log type',
    labelNames: ['log_type'],
    registers: [this.registry],
  });
  private readonly eventsRejected = new Counter({
    name: 'tripline_events_rejected_total',
    help: 'Events rejected alone (not decodable, not an object, no log type, impossible time), by log type',
    labelNames: ['log_type'],
    registers: [this.registry],
  });
  private readonly hitsStored = new Counter({
    name: 'tripline_hits_stored_total',
    help: 'Hits stored, by rule (a hit already stored for the same event id, such as CloudTrail’s eventID, is not counted again)',
    labelNames: ['rule_id'],
    registers: [this.registry],
  });
  private readonly alertsOpened = new Counter({
    name: 'tripline_alerts_opened_total',
    help: 'Alerts opened (reached their threshold), by rule',
    labelNames: ['rule_id'],
    registers: [this.registry],
  });
  private readonly ruleErrors = new Counter({
    name: 'tripline_rule_errors_total',
    help: 'Events on which a rule failed while being evaluated, by rule',
    labelNames: ['rule_id'],
    registers: [this.registry],
  });
  private readonly batchDuration = new Histogram({
    name: 'tripline_ingest_batch_duration_seconds',
    help: 'Time to take in one batch of events and answer it: reading the body, evaluating, storing',
    buckets: BATCH_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly evaluationDuration = new Histogram({
    name: 'tripline_ingest_evaluation_duration_seconds',
    help: 'Time one batch spent decoding, normalising and evaluating its events (not waiting for the body, not storing)',
    buckets: EVALUATION_SECONDS_BUCKETS,
    registers: [this.registry],
  });

  private readonly connectionsRefused = new Counter({
    name: 'tripline_connections_refused_total',
    help: 'Connections closed on arrival: too many open in all (total) or from one client address (per_address)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor(@Inject(POOL_STATS) readPoolStats: PoolStatsReader) {
    collectDefaultMetrics({ register: this.registry });
    // The pool is read when scraped.
    const poolGauge = (name: string, help: string, value: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(value(readPoolStats()));
        },
      });
    poolGauge(
      'tripline_database_pool_connections',
      'Database connections open (SQLite: its one connection)',
      (stats) => stats.total,
    );
    poolGauge(
      'tripline_database_pool_idle_connections',
      'Open database connections not in use',
      (stats) => stats.idle,
    );
    poolGauge(
      'tripline_database_pool_waiting_queries',
      'Queries waiting for a database connection',
      (stats) => stats.waiting,
    );
  }

  /** The media type of `render()`: Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Events of one batch, counted once per log type (undefined: events with no log type). */
  countEvents(byLogType: ReadonlyMap<string | undefined, EventCounts>): void {
    for (const [logType, counts] of byLogType) {
      const labels = { log_type: this.logTypeLabel(logType) };
      this.eventsReceived.inc(labels, counts.accepted + counts.rejected);
      if (counts.accepted > 0) this.eventsAccepted.inc(labels, counts.accepted);
      if (counts.rejected > 0) this.eventsRejected.inc(labels, counts.rejected);
    }
  }

  /** Hits, alerts and rule errors of one committed batch. */
  countStored(batch: StoredBatchCounts): void {
    for (const [ruleId, hits] of batch.hitsStored)
      if (hits > 0) this.hitsStored.inc({ rule_id: ruleId }, hits);
    for (const [ruleId, alerts] of batch.alertsOpened)
      if (alerts > 0) this.alertsOpened.inc({ rule_id: ruleId }, alerts);
    for (const [ruleId, { count }] of batch.ruleErrors)
      if (count > 0) this.ruleErrors.inc({ rule_id: ruleId }, count);
  }

  countRefusedConnection(reason: 'total' | 'per_address'): void {
    this.connectionsRefused.inc({ reason });
  }

  observeBatch(durationSeconds: number, evaluationSeconds: number): void {
    this.batchDuration.observe(durationSeconds);
    this.evaluationDuration.observe(evaluationSeconds);
  }

  private logTypeLabel(logType: string | undefined): string {
    if (logType === undefined) return UNKNOWN_LOG_TYPE;
    if (this.logTypeLabels.has(logType)) return logType;
    if (this.logTypeLabels.size >= MAX_LOG_TYPE_LABELS) return OTHER_LOG_TYPES;
    this.logTypeLabels.add(logType);
    return logType;
  }
}
