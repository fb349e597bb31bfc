// One batch's events through the rules, from decoded items to what the ingest store writes: each event
// prepared (log type, event time, deferred normalisation), evaluated on one snapshot of the rules, its
// hits put in rule order with the backends' ones. Framework-free: it runs on the request's thread or on
// an evaluation thread (evaluation.worker.ts), and the result is plain data either way.
import { DomainError } from '../common/errors.js';
import { didYouMean } from '../common/suggestions.js';
import type { RuleHit } from '../engine/compile.js';
import { prepareEvent } from '../engine/events.js';
import { eventIdOf } from '../engine/logtypes/index.js';
import { isoTimestampMs } from '../engine/logtypes/time.js';
import type { BackendWork, RuleErrorReport } from '../engine/rule-set.js';
import type { JsonObject } from '../engine/values.js';
import type { EventCounts } from '../metrics/metrics.service.js';
import type { RuleSetSnapshot } from '../rules/rule-set-snapshot.js';
import { EventDecoder, type BodyShape, type DecodedItem, type DecoderLimits } from './event-decoder.js';
import type { PendingHit, RuleErrorTally } from './ingest-store.js';

export interface RejectedEvent {
  index: number;
  error: string;
}

export interface IngestWarning {
  code: 'no_rules_for_log_type';
  logType: string;
  /** Accepted events of that log type in the batch. */
  events: number;
  detail: string;
}

/** Event ids are a column this long; a longer one is stored without retry dedup rather than cut. */
const MAX_EVENT_ID = 128;
/** Event times outside this range are refused: they cannot be stored, sorted and grouped as times. */
export const EARLIEST_EVENT_TIME = Date.UTC(1970, 0, 1);
export const LATEST_EVENT_TIME = Date.UTC(2200, 0, 1);

/** A batch evaluated: what the ingest store writes and the answer reports. */
export interface EvaluatedBatch {
  readonly receivedAt: Date;
  readonly received: number;
  readonly accepted: number;
  readonly rejected: readonly RejectedEvent[];
  readonly hits: readonly PendingHit[];
  readonly ruleErrors: ReadonlyMap<string, RuleErrorTally>;
  /** Accepted and rejected events per log type, for the metrics (undefined: no log type). */
  readonly eventsByLogType: ReadonlyMap<string | undefined, EventCounts>;
  readonly warnings: readonly IngestWarning[];
}

/** One batch's events going through the rules: counts, rejections, pending hits and rule errors. */
export class BatchEvaluation {
  received = 0;
  accepted = 0;
  readonly rejected: RejectedEvent[] = [];
  hits: PendingHit[] = [];
  /** Events whose rules include some a backend runs: where their hits go, and what is known so far. */
  private awaiting: {
    at: number;
    work: BackendWork;
    inProcess: RuleHit[];
    eventLogType: string;
    eventTime: number;
  }[] = [];
  readonly ruleErrors = new Map<string, RuleErrorTally>();
  /** Accepted and rejected events per log type, for the metrics (undefined: no log type). */
  readonly eventsByLogType = new Map<string | undefined, EventCounts>();

  constructor(
    private readonly rules: RuleSetSnapshot,
    private readonly logType: string | undefined,
    readonly receivedAt: Date,
  ) {}

  /** `logType` overrides the batch's own for this event (a forwarder's per-event sourcetype or index). */
  add(item: DecodedItem, logType: string | undefined = this.logType): void {
    this.received += 1;
    if ('error' in item) {
      this.rejected.push({ index: item.index, error: item.error });
      this.countEvent(logType, false);
      return;
    }
    const prepared = prepareEvent(item.event, {
      logType,
      receivedAt: this.receivedAt,
      deferNormalisation: true,
    });
    if (!prepared.ok) {
      this.rejected.push({ index: item.index, error: prepared.error });
      this.countEvent(logType, false);
      return;
    }
    // The log type given, else the one the event names or its shape shows.
    const { event, logType: eventLogType } = prepared;
    const parsedTime = isoTimestampMs(prepared.eventTime);
    const eventTime = Number.isNaN(parsedTime) ? this.receivedAt.getTime() : parsedTime;
    if (eventTime < EARLIEST_EVENT_TIME || eventTime >= LATEST_EVENT_TIME) {
      this.rejected.push({
        index: item.index,
        error: `event time ${prepared.eventTime} is outside 1970 to 2199`,
      });
      this.countEvent(eventLogType, false);
      return;
    }
    this.accepted += 1;
    this.countEvent(eventLogType, true);
    const ruleSet = this.rules.ruleSet;
    const matches = ruleSet.evaluate(event, eventLogType, this.countRuleError, prepared.deferred);
    const work = ruleSet.backendWork(event, eventLogType, this.countRuleError, prepared.deferred);
    if (work) {
      // Its hits wait for the backends; their place among the batch's hits is kept.
      this.awaiting.push({ at: this.hits.length, work, inProcess: matches, eventLogType, eventTime });
      return;
    }
    this.addHits(matches, event, eventLogType, eventTime, this.hits);
  }

  /**
   * Hands the events that rules of a backend must see to their backends, once for the whole batch, and
   * puts each event's hits in place, in rule order with its in-process ones.
   */
  async finish(): Promise<void> {
    if (this.awaiting.length === 0) return;
    const ruleSet = this.rules.ruleSet;
    const fromBackends = await ruleSet.evaluateInBackends(
      this.awaiting.map(({ work }) => work),
      this.countRuleError,
    );
    const hits: PendingHit[] = [];
    let copied = 0;
    this.awaiting.forEach((waiting, index) => {
      for (; copied < waiting.at; copied++) hits.push(this.hits[copied] as PendingHit);
      const merged = ruleSet.inRuleOrder(waiting.inProcess, fromBackends[index] ?? []);
      this.addHits(merged, waiting.work.event as JsonObject, waiting.eventLogType, waiting.eventTime, hits);
    });
    for (; copied < this.hits.length; copied++) hits.push(this.hits[copied] as PendingHit);
    this.hits = hits;
    this.awaiting = [];
  }

  private readonly countRuleError = ({ ruleId, error }: RuleErrorReport): void => {
    const tally = this.ruleErrors.get(ruleId) ?? { count: 0, lastError: '' };
    tally.count += 1;
    tally.lastError = error instanceof Error ? error.message : String(error);
    this.ruleErrors.set(ruleId, tally);
  };

  private addHits(
    matches: readonly RuleHit[],
    event: JsonObject,
    eventLogType: string,
    eventTime: number,
    into: PendingHit[],
  ): void {
    if (matches.length === 0) return;
    // The source's own event id, for retry dedup; a longer one than the column holds is not cut but dropped.
    const sourceId = eventIdOf(event, eventLogType);
    const eventId = sourceId !== undefined && sourceId.length <= MAX_EVENT_ID ? sourceId : null;
    for (const match of matches) {
      const active = this.rules.versions.get(match.ruleId);
      if (!active) continue;
      const definition = active.compiled.definition;
      into.push({
        ruleId: match.ruleId,
        ruleVersionId: active.versionId,
        ruleVersion: active.version,
        severity: match.severity,
        title: match.title,
        dedupKey: match.dedup,
        logType: eventLogType,
        eventTime,
        eventId,
        outputFields: match.alertContext,
        event,
        policy: {
          dedupPeriodMinutes: definition.dedupPeriodMinutes,
          threshold: definition.threshold,
          createAlert: definition.createAlert,
        },
      });
    }
  }

  /** What the batch came to, once {@link finish} has run: plain data, which a thread can post. */
  result(): EvaluatedBatch {
    return {
      receivedAt: this.receivedAt,
      received: this.received,
      accepted: this.accepted,
      rejected: this.rejected,
      hits: this.hits,
      ruleErrors: this.ruleErrors,
      eventsByLogType: this.eventsByLogType,
      warnings: this.warnings(),
    };
  }

  /** Log types of accepted events that no enabled rule reads: stored, but nothing looked at them. */
  private warnings(): IngestWarning[] {
    const watched = this.rules.ruleSet.logTypes;
    const warnings: IngestWarning[] = [];
    for (const [logType, counts] of this.eventsByLogType) {
      if (logType === undefined || counts.accepted === 0 || this.rules.ruleSet.rulesFor(logType).length > 0)
        continue;
      const near = didYouMean(logType, watched);
      warnings.push({
        code: 'no_rules_for_log_type',
        logType,
        events: counts.accepted,
        detail: `no enabled rule reads log type ${logType}${near === undefined ? '' : `; did you mean ${near}?`}`,
      });
    }
    return warnings;
  }

  private countEvent(logType: string | undefined, accepted: boolean): void {
    let counts = this.eventsByLogType.get(logType);
    if (!counts) {
      counts = { accepted: 0, rejected: 0 };
      this.eventsByLogType.set(logType, counts);
    }
    if (accepted) counts.accepted += 1;
    else counts.rejected += 1;
  }
}

/** A batch over the events limit: refused whole. */
export function tooManyEvents(maxEvents: number): DomainError {
  return new DomainError(
    413,
    'too_many_events',
    'Too many events',
    `a batch may hold at most ${maxEvents} events; nothing was stored`,
  );
}

/**
 * A request body's text through the decoder and into a batch, piece by piece, on either thread: the
 * events limit is checked as they come, and the time counts the work on each piece, not the wait for
 * the next one.
 */
export class BodyEvaluation {
  readonly batch: BatchEvaluation;
  private readonly decoder: EventDecoder;
  evaluationMs = 0;

  constructor(
    rules: RuleSetSnapshot,
    logType: string | undefined,
    receivedAt: Date,
    shape: BodyShape,
    private readonly limits: DecoderLimits & { maxEvents: number },
  ) {
    this.batch = new BatchEvaluation(rules, logType, receivedAt);
    this.decoder = new EventDecoder(shape, limits);
  }

  /** Decodes and evaluates a piece of the text; throws tooManyEvents past the limit. */
  write(text: string): void {
    this.timed(() => this.decoder.write(text));
  }

  /** The end of the text: what the decoder held back is decoded and evaluated. */
  end(): void {
    this.timed(() => this.decoder.end());
  }

  private timed(decode: () => DecodedItem[]): void {
    const started = performance.now();
    try {
      const items = decode();
      if (this.decoder.count > this.limits.maxEvents) throw tooManyEvents(this.limits.maxEvents);
      for (const item of items) this.batch.add(item);
    } finally {
      this.evaluationMs += performance.now() - started;
    }
  }
}
