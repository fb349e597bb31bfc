// Events from log forwarders that speak Splunk HEC or Elasticsearch _bulk: their bodies decoded, each
// event given the log type its sourcetype or index names, and the batch stored by IngestService like any
// other. Answers are built here in each protocol's terms; errors are HecError and BulkRequestError.
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { APP_CONFIG } from '../config/config.module.js';
import { jsonDepth } from '../engine/values.js';
import type { AppConfig } from '../config/config.js';
import { RequestBody } from '../ingest/body-stream.js';
import { EventDecoder, type BodyShape, type DecodedItem } from '../ingest/event-decoder.js';
import { IngestService, type DecodedEvent, type RejectedEvent } from '../ingest/ingest.service.js';
import { bulkOperations, logTypeOfIndex, MalformedBulkError, type BulkAction } from './bulk-ndjson.js';
import { eventOfEnvelope, eventOfText, HEC_STATUS, logTypeOfSourcetype, rawLines } from './hec-envelopes.js';
import { BulkRequestError, HecError } from './forwarder-answers.js';

export interface ForwardedBody {
  body: Readable;
  contentEncoding: string | undefined;
}

export type HecSuccess = { text: string; code: number };

export interface BulkItemResult {
  _index: string;
  _id: string;
  status: number;
  result?: 'created';
  _version?: number;
  _shards?: { total: number; successful: number; failed: number };
  error?: { type: string; reason: string };
}

export interface BulkAnswer {
  took: number;
  errors: boolean;
  items: Array<Partial<Record<BulkAction, BulkItemResult>>>;
}

@Injectable()
export class ForwardersService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingestService: IngestService,
  ) {}

  /** /services/collector/event: concatenated envelopes, each event with its sourcetype's log type. */
  async hecEvents(request: ForwardedBody): Promise<HecSuccess> {
    const items = await this.decode(request, 'json');
    if (items.length === 0) throw new HecError('noData', 'the body holds no envelopes');
    const events: DecodedEvent[] = [];
    for (const item of items) {
      if ('error' in item) throw new HecError('invalidDataFormat', item.error, item.index);
      const found = eventOfEnvelope(item.event);
      if (!found.ok) throw new HecError(found.status, found.reason, item.index);
      this.refuseTooDeep(found.event, item.index);
      const logType = logTypeOfSourcetype(this.config.forwarders.hecSourcetypes, found.sourcetype);
      events.push({ index: item.index, event: found.event, logType });
    }
    return this.storeHec(events);
  }

  /** /services/collector/raw: one event per line, all of the query's sourcetype. */
  async hecRaw(request: ForwardedBody, sourcetype: string | undefined): Promise<HecSuccess> {
    const lines = rawLines(await this.readText(request));
    if (lines.length === 0) throw new HecError('noData', 'the body holds no lines');
    const logType = logTypeOfSourcetype(this.config.forwarders.hecSourcetypes, sourcetype);
    const events = lines.map((line, index): DecodedEvent => {
      if (line.length > this.config.limits.maxEventChars)
        throw new HecError(
          'invalidDataFormat',
          `line longer than ${this.config.limits.maxEventChars} characters`,
          index,
        );
      const event = eventOfText(line);
      this.refuseTooDeep(event, index);
      return { index, event, logType };
    });
    return this.storeHec(events);
  }

  /** An event given as text (a /raw line, a string event) escaped the decoder's depth check: check it here. */
  private refuseTooDeep(event: unknown, index: number): void {
    const limit = this.config.limits.maxJsonDepth;
    if (jsonDepth(event, limit) > limit)
      throw new HecError('invalidDataFormat', `event nested deeper than ${limit} levels`, index);
  }

  /** _bulk: index and create store their source; the answer has one item per action, in order. */
  async bulk(request: ForwardedBody, pathIndex: string | undefined): Promise<BulkAnswer> {
    const started = performance.now();
    const lines = await this.decode(request, 'ndjson');
    if (lines.length === 0)
      throw new BulkRequestError('action_request_validation_exception', 'no requests added');
    let operations;
    try {
      operations = bulkOperations(lines, pathIndex);
    } catch (error) {
      if (error instanceof MalformedBulkError)
        throw new BulkRequestError('illegal_argument_exception', error.message);
      throw error;
    }
    const events: DecodedEvent[] = [];
    /** For each operation, its event's index in `events` (undefined: not an event). */
    const eventOf: Array<number | undefined> = [];
    for (const operation of operations) {
      const source = operation.source;
      if ((operation.action !== 'index' && operation.action !== 'create') || source === undefined) {
        eventOf.push(undefined);
        continue;
      }
      const index = events.length;
      eventOf.push(index);
      const logType = logTypeOfIndex(this.config.forwarders.bulkIndices, operation.index);
      events.push(
        'error' in source ? { index, error: source.error } : { index, event: source.event, logType },
      );
    }
    const rejections = new Map<number, RejectedEvent>();
    if (events.length > 0) {
      const stored = await this.ingestService.ingestEvents(events);
      for (const rejected of stored.allRejected) rejections.set(rejected.index, rejected);
    }
    const items = operations.map((operation, position) => {
      const item: BulkItemResult = {
        _index: operation.index ?? '',
        _id: operation.id ?? documentId(),
        status: 201,
      };
      const eventIndex = eventOf[position];
      if (eventIndex === undefined) {
        item.status = 400;
        item.error = {
          type: 'action_request_validation_exception',
          reason: `${operation.action} is not supported: events are stored as sent and never changed`,
        };
      } else {
        const rejected = rejections.get(eventIndex);
        if (rejected) {
          item.status = 400;
          item.error = { type: 'document_parsing_exception', reason: rejected.error };
        } else
          Object.assign(item, {
            result: 'created',
            _version: 1,
            _shards: { total: 1, successful: 1, failed: 0 },
          });
      }
      return { [operation.action]: item };
    });
    return {
      took: Math.round(performance.now() - started),
      errors: items.some((item) => Object.values(item).some((result) => result.status >= 300)),
      items,
    };
  }

  /** Stores HEC events; an event the pipeline refuses (e.g. no log type) is HEC's invalid data format. */
  private async storeHec(events: DecodedEvent[]): Promise<HecSuccess> {
    const stored = await this.ingestService.ingestEvents(events);
    const first = stored.allRejected[0];
    if (first !== undefined) {
      const others = stored.accepted > 0 ? `; the ${stored.accepted} other events were stored` : '';
      throw new HecError('invalidDataFormat', `${first.error}${others}`, first.index);
    }
    const { text, code } = HEC_STATUS.success;
    return { text, code };
  }

  private async decode(request: ForwardedBody, shape: BodyShape): Promise<DecodedItem[]> {
    const decoder = new EventDecoder(shape, {
      maxEventChars: this.config.limits.maxEventChars,
      maxDepth: this.config.limits.maxJsonDepth,
    });
    const items: DecodedItem[] = [];
    for await (const text of this.body(request).text()) items.push(...decoder.write(text));
    items.push(...decoder.end());
    return items;
  }

  private async readText(request: ForwardedBody): Promise<string> {
    const parts: string[] = [];
    for await (const text of this.body(request).text()) parts.push(text);
    return parts.join('');
  }

  private body(request: ForwardedBody): RequestBody {
    return new RequestBody(request.body, request.contentEncoding, {
      maxBodyBytes: this.config.bodyLimitBytes,
      maxDecompressedBytes: this.config.ingest.maxDecompressedBytes,
      digest: false,
    });
  }
}

/** An id for a document sent without one, shaped like Elasticsearch's own (20 base64url characters). */
function documentId(): string {
  return randomBytes(15).toString('base64url');
}
