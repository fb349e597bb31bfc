// POST /v1/events from body to durable hits: decode as the body arrives, normalise and evaluate each
// event on one snapshot of the rules, then store the whole batch in one transaction. The answer is
// given only after the commit.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ConflictError, DomainError } from '../common/errors.js';
import { didYouMean } from '../common/suggestions.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { RuleHit } from '../engine/compile.js';
import { prepareEvent } from '../engine/events.js';
import type { BackendWork, RuleErrorReport } from '../engine/rule-set.js';
import type { JsonObject } from '../engine/values.js';
import { eventIdOf } from '../engine/logtypes/index.js';
import { isoTimestampMs } from '../engine/logtypes/time.js';
import { MetricsService, type EventCounts } from '../metrics/metrics.service.js';
import { ActiveRuleSet, type RuleSetSnapshot } from '../rules/active-rule-set.service.js';
import { RequestBody } from './body-stream.js';
import { EventDecoder, type BodyShape, type DecodedItem } from './event-decoder.js';
import {
  INGEST_STORE,
  type IngestStore,
  type IngestTransaction,
  type PendingHit,
  type RuleErrorTally,
  type WriteOutcome,
} from './ingest-store.js';

export interface IngestRequest {
  body: Readable;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  logType: string | undefined;
  idempotencyKey: string | undefined;
}

export interface RejectedEvent {
  index: number;
  error: string;
}

export interface IngestAnswer {
  batchId: number;
  received: number;
  accepted: number;
  /** The first MAX_LISTED_REJECTIONS rejected events; rejectedCount says how many there were. */
  rejected: RejectedEvent[];
  rejectedCount: number;
  /** Hits stored by this batch. */
  hits: number;
  /** Hits not stored again: the rule already matched the same event id. */
  duplicateHits: number;
  /** Alerts this batch opened. */
  alerts: number;
  /** Open alerts that this batch's hits joined. */
  alertsUpdated: number;
  /** What the sender may want to know although nothing failed, e.g. events no enabled rule reads. */
  warnings: IngestWarning[];
}

export interface IngestWarning {
  code: 'no_rules_for_log_type';
  logType: string;
  /** Accepted events of that log type in the batch. */
  events: number;
  detail: string;
}

/** An event decoded by a forwarder endpoint, with the log type its envelope names (if any). */
export type DecodedEvent = DecodedItem & { logType?: string };

/** A forwarder's batch: no Idempotency-Key, so nothing of the request is digested or compared. */
const NO_IDEMPOTENCY: Omit<IngestRequest, 'body'> = {
  contentType: undefined,
  contentEncoding: undefined,
  logType: undefined,
  idempotencyKey: undefined,
};

export const MAX_LISTED_REJECTIONS = 1000;
/** Event ids are a column this long; a longer one is stored without retry dedup rather than cut. */
const MAX_EVENT_ID = 128;
/** Event times outside this range are refused: they cannot be stored, sorted and grouped as times. */
export const EARLIEST_EVENT_TIME = Date.UTC(1970, 0, 1);
export const LATEST_EVENT_TIME = Date.UTC(2200, 0, 1);
/** Idempotency keys are kept this long; a retry after that is a new batch. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
  'text/x-ndjson',
]);

/** NDJSON when Content-Type says so; otherwise the body's own brackets tell (JSON also covers NDJSON). */
function bodyShape(contentType: string | undefined): BodyShape {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type !== undefined && NDJSON_TYPES.has(type) ? 'ndjson' : 'json';
}

@Injectable()
export class IngestService {
  private readonly logger = new Logger('Ingest');
  private lastPrune = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INGEST_STORE) private readonly ingestStore: IngestStore,
    private readonly activeRules: ActiveRuleSet,
    private readonly metrics: MetricsService,
  ) {}

  async ingest(request: IngestRequest): Promise<IngestAnswer & { replayed: boolean }> {
    const started = performance.now();
    const receivedAt = new Date();
    const rules = this.activeRules.snapshot();
    const body = new RequestBody(request.body, request.contentEncoding, {
      maxBodyBytes: this.config.bodyLimitBytes,
      maxDecompressedBytes: this.config.ingest.maxDecompressedBytes,
      digest: request.idempotencyKey !== undefined,
    });
    const batch = new BatchEvaluation(rules, request.logType, receivedAt);
    const decoder = new EventDecoder(bodyShape(request.contentType), {
      maxEventChars: this.config.limits.maxEventChars,
      maxDepth: this.config.limits.maxJsonDepth,
    });
    const take = (items: DecodedItem[]) => {
      if (decoder.count > this.config.ingest.maxEvents) throw tooManyEvents(this.config.ingest.maxEvents);
      for (const item of items) batch.add(item);
    };
    // Evaluation time counts the work on each piece of the body, not the wait for the next one.
    let evaluationMs = 0;
    for await (const text of body.text()) evaluationMs += millisecondsOf(() => take(decoder.write(text)));
    evaluationMs += millisecondsOf(() => take(decoder.end()));
    await batch.finish();

    return this.store(batch, request, body, started, evaluationMs);
  }

  /**
   * Events already decoded by a forwarder's endpoint (HEC, Elasticsearch bulk), each with its own log
   * type (undefined: its p_log_type or shape decides). Unlike `ingest`, a batch with no event accepted is
   * still answered, not refused: the caller reports each rejected event in its protocol's own terms.
   */
  async ingestEvents(
    events: readonly DecodedEvent[],
  ): Promise<IngestAnswer & { allRejected: RejectedEvent[] }> {
    const started = performance.now();
    const receivedAt = new Date();
    const batch = new BatchEvaluation(this.activeRules.snapshot(), undefined, receivedAt);
    if (events.length > this.config.ingest.maxEvents) throw tooManyEvents(this.config.ingest.maxEvents);
    const evaluationMs = millisecondsOf(() => {
      for (const item of events) batch.add(item, item.logType);
    });
    await batch.finish();
    if (batch.accepted === 0) {
      this.metrics.countEvents(batch.eventsByLogType);
      // Nothing to store: no batch is written, and batchId 0 says so.
      return {
        batchId: 0,
        received: batch.received,
        accepted: 0,
        rejected: batch.rejected.slice(0, MAX_LISTED_REJECTIONS),
        rejectedCount: batch.rejected.length,
        hits: 0,
        duplicateHits: 0,
        alerts: 0,
        alertsUpdated: 0,
        warnings: [],
        allRejected: batch.rejected,
      };
    }
    const answer = await this.store(batch, NO_IDEMPOTENCY, undefined, started, evaluationMs);
    return { ...answer, allRejected: batch.rejected };
  }

  private async store(
    batch: BatchEvaluation,
    request: Omit<IngestRequest, 'body'>,
    body: RequestBody | undefined,
    started: number,
    evaluationMs: number,
  ): Promise<IngestAnswer & { replayed: boolean }> {
    const receivedAt = batch.receivedAt;
    if (batch.received === 0) {
      throw new DomainError(
        400,
        'no_events',
        'No events',
        'the body holds no events: send a JSON array, NDJSON, JSON objects or a CloudTrail Records file',
      );
    }
    if (batch.accepted === 0) {
      this.metrics.countEvents(batch.eventsByLogType);
      throw new DomainError(
        400,
        'no_valid_events',
        'No valid events',
        `none of the ${batch.received} events could be accepted; nothing was stored`,
        {
          rejected: batch.rejected.slice(0, MAX_LISTED_REJECTIONS),
        },
      );
    }
    // The same key means the same request: same bytes, sent the same way, with the same logType.
    const requestHash =
      request.idempotencyKey === undefined
        ? ''
        : createHash('sha256')
            .update(
              JSON.stringify([
                body?.digest() ?? '',
                request.logType ?? null,
                request.contentEncoding ?? null,
                request.contentType ?? null,
              ]),
            )
            .digest('hex');
    // Decided before the unit of work, which may run twice (IngestStore.write) and so keeps no state.
    const pruneKeys = request.idempotencyKey !== undefined && receivedAt.getTime() - this.lastPrune > 60_000;
    if (pruneKeys) this.lastPrune = receivedAt.getTime();
    let perRule: WriteOutcome['perRule'] | undefined;
    const answer = await this.ingestStore.write(async (batches) => {
      if (request.idempotencyKey !== undefined) {
        // A retry may reach another instance while the first attempt is still being written.
        await batches.lockIdempotencyKey(request.idempotencyKey);
        const previous = await batches.findIdempotencyKey(request.idempotencyKey);
        if (previous) {
          if (previous.requestHash !== requestHash) {
            throw new ConflictError(
              'idempotency_key_reused',
              'this Idempotency-Key was used for a different body; use a new key for a new batch',
            );
          }
          return { ...(previous.response as unknown as IngestAnswer), replayed: true };
        }
      }
      const outcome = await batches.writeBatch(
        {
          receivedAt,
          received: batch.received,
          accepted: batch.accepted,
          rejected: batch.rejected.length,
          idempotencyKey: request.idempotencyKey ?? null,
        },
        batch.hits,
        batch.ruleErrors,
      );
      perRule = outcome.perRule;
      const result: IngestAnswer = {
        batchId: outcome.batchId,
        received: batch.received,
        accepted: batch.accepted,
        rejected: batch.rejected.slice(0, MAX_LISTED_REJECTIONS),
        rejectedCount: batch.rejected.length,
        hits: outcome.hitsStored,
        duplicateHits: outcome.duplicateHits,
        alerts: outcome.alertsOpened,
        alertsUpdated: outcome.alertsUpdated,
        warnings: batch.warnings(),
      };
      if (request.idempotencyKey !== undefined)
        await this.remember(batches, request.idempotencyKey, requestHash, result, receivedAt, pruneKeys);
      return { ...result, replayed: false };
    });
    if (!answer.replayed) {
      this.logger.debug(
        `batch ${answer.batchId}: ${answer.accepted}/${answer.received} events, ${answer.hits} hits, ${answer.alerts} alerts opened`,
      );
      this.metrics.countEvents(batch.eventsByLogType);
      if (perRule) this.metrics.countStored({ ...perRule, ruleErrors: batch.ruleErrors });
    }
    this.metrics.observeBatch((performance.now() - started) / 1000, evaluationMs / 1000);
    return answer;
  }

  private async remember(
    batches: IngestTransaction,
    key: string,
    requestHash: string,
    response: IngestAnswer,
    now: Date,
    pruneKeys: boolean,
  ): Promise<void> {
    await batches.rememberIdempotencyKey({ key, requestHash, response: { ...response }, createdAt: now });
    // Forget old keys now and then, in the same transaction, rather than with a timer.
    if (pruneKeys) await batches.forgetIdempotencyKeysBefore(new Date(now.getTime() - IDEMPOTENCY_TTL_MS));
  }
}

/** One batch's events going through the rules: counts, rejections, pending hits and rule errors. */
class BatchEvaluation {
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

  /** Log types of accepted events that no enabled rule reads: stored, but nothing looked at them. */
  warnings(): IngestWarning[] {
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

function tooManyEvents(maxEvents: number): DomainError {
  return new DomainError(
    413,
    'too_many_events',
    'Too many events',
    `a batch may hold at most ${maxEvents} events; nothing was stored`,
  );
}

function millisecondsOf(work: () => void): number {
  const start = performance.now();
  work();
  return performance.now() - start;
}
