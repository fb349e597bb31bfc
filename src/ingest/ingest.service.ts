// POST /v1/events from body to durable hits: decode as the body arrives, normalise and evaluate each
// event on one snapshot of the rules, then store the whole batch in one transaction. The answer is
// given only after the commit.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ConflictError, DomainError } from '../common/errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ActiveRuleSet } from '../rules/active-rule-set.service.js';
import {
  BatchEvaluation,
  BodyEvaluation,
  tooManyEvents,
  type EvaluatedBatch,
  type IngestWarning,
  type RejectedEvent,
} from './batch-evaluation.js';
import { RequestBody } from './body-stream.js';
import { EvaluationPool, type EvaluatedOnThread } from './evaluation-pool.js';
import type { BodyShape, DecodedItem } from './event-decoder.js';
import { INGEST_STORE, type IngestStore, type IngestTransaction, type WriteOutcome } from './ingest-store.js';

export type { IngestWarning, RejectedEvent } from './batch-evaluation.js';

export interface IngestRequest {
  body: Readable;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** The Content-Length the client declared, if any: a large batch may go to an evaluation thread. */
  contentLength?: number;
  logType: string | undefined;
  idempotencyKey: string | undefined;
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
    private readonly evaluationPool: EvaluationPool,
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
    const shape = bodyShape(request.contentType);
    const limits = {
      maxEventChars: this.config.limits.maxEventChars,
      maxDepth: this.config.limits.maxJsonDepth,
      maxEvents: this.config.ingest.maxEvents,
    };
    const job = this.evaluationPool.start(rules, {
      contentLength: request.contentLength,
      logType: request.logType,
      receivedAt,
      shape,
      limits,
    });
    if (job) {
      let evaluated: EvaluatedOnThread;
      try {
        for await (const text of body.text()) await job.write(text);
        evaluated = await job.end();
      } finally {
        job.cancel();
      }
      return this.store(evaluated.batch, request, body, started, evaluated.evaluationMs);
    }

    const reading = new BodyEvaluation(rules, request.logType, receivedAt, shape, limits);
    for await (const text of body.text()) reading.write(text);
    reading.end();
    await reading.batch.finish();
    return this.store(reading.batch.result(), request, body, started, reading.evaluationMs);
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
    const evaluated = batch.result();
    if (evaluated.accepted === 0) {
      this.metrics.countEvents(evaluated.eventsByLogType);
      // Nothing to store: no batch is written, and batchId 0 says so.
      return {
        batchId: 0,
        received: evaluated.received,
        accepted: 0,
        rejected: evaluated.rejected.slice(0, MAX_LISTED_REJECTIONS),
        rejectedCount: evaluated.rejected.length,
        hits: 0,
        duplicateHits: 0,
        alerts: 0,
        alertsUpdated: 0,
        warnings: [],
        allRejected: [...evaluated.rejected],
      };
    }
    const answer = await this.store(evaluated, NO_IDEMPOTENCY, undefined, started, evaluationMs);
    return { ...answer, allRejected: [...evaluated.rejected] };
  }

  private async store(
    batch: EvaluatedBatch,
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
        warnings: [...batch.warnings],
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

function millisecondsOf(work: () => void): number {
  const start = performance.now();
  work();
  return performance.now() - start;
}
