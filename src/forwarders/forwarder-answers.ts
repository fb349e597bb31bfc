// What a forwarder's errors look like on the wire. A forwarder route's errors are still DomainErrors
// turned into a problem by ProblemFilter, the one mapping place; the route's error answer format (one of
// these, declared with @Access) then says the same thing the way Splunk HEC or Elasticsearch would, since
// that is all a HEC client or a bulk client reads.
import { DomainError } from '../common/errors.js';
import type { ErrorAnswer, ProblemDocument } from '../common/problem.filter.js';
import { HEC_STATUS, type HecStatusName } from './hec-envelopes.js';

/**
 * The database faults (storage/database-faults.ts): the sender should retry later. Nothing was stored,
 * except after commit_unconfirmed, where a retried event with an id (CloudTrail's eventID) is not stored twice.
 */
const RETRY_LATER = new Set([
  'rate_limited',
  'storage_full',
  'database_unavailable',
  'database_busy',
  'commit_unconfirmed',
]);

/** The header the official Elasticsearch clients check on every answer before they trust it. */
export const ELASTIC_PRODUCT_HEADER = { 'x-elastic-product': 'Elasticsearch' };

/** A HEC refusal by its HEC status; `invalidEventNumber` is the 0-based envelope at fault, if one is. */
export class HecError extends DomainError {
  constructor(hecStatus: HecStatusName, detail: string, invalidEventNumber?: number) {
    const { status, text } = HEC_STATUS[hecStatus];
    super(status, `hec_${hecStatus}`, text, detail, {
      hecStatus,
      ...(invalidEventNumber === undefined ? {} : { invalidEventNumber }),
    });
  }
}

/** A whole _bulk request refused, with Elasticsearch's error type. */
export class BulkRequestError extends DomainError {
  constructor(elasticsearchType: string, detail: string) {
    super(400, 'bulk_request_invalid', 'Invalid bulk request', detail, { elasticsearchType });
  }
}

/** HEC's {text, code} for a problem: its own HEC status, else the nearest one (the HEC routes' format). */
export function hecErrorAnswer(problem: ProblemDocument): ErrorAnswer {
  const named = typeof problem.hecStatus === 'string' ? (problem.hecStatus as HecStatusName) : undefined;
  const hecStatus: HecStatusName =
    named ??
    (problem.code === 'api_key_required'
      ? 'tokenRequired'
      : problem.code === 'invalid_api_key'
        ? 'invalidToken'
        : problem.code === 'insufficient_scope'
          ? 'invalidAuthorization'
          : // HEC has no 429 nor 507: a client backs off on "Server is busy".
            RETRY_LATER.has(problem.code)
            ? 'serverBusy'
            : problem.status >= 500
              ? 'internalError'
              : 'invalidDataFormat');
  const { text, code, status } = HEC_STATUS[hecStatus];
  const body: Record<string, unknown> = { text, code };
  if (typeof problem.invalidEventNumber === 'number')
    body['invalid-event-number'] = problem.invalidEventNumber;
  // A client error HEC has no code for (too large, bad encoding) keeps its own status and says why.
  const generic = named === undefined && hecStatus === 'invalidDataFormat';
  if (generic) body.text = `${text}: ${problem.detail}`;
  return { status: generic ? problem.status : status, body, headers: {} };
}

/**
 * Elasticsearch's {error: {root_cause, type, reason}, status}, with the product header its clients check
 * (the Elasticsearch routes' format).
 */
export function elasticsearchErrorAnswer(problem: ProblemDocument): ErrorAnswer {
  // Elasticsearch blocks writes on a full disk with a 429 its clients retry (the flood-stage watermark).
  if (problem.code === 'storage_full') {
    const cause = { type: 'cluster_block_exception', reason: problem.detail };
    return {
      status: 429,
      body: { error: { root_cause: [cause], ...cause }, status: 429 },
      headers: ELASTIC_PRODUCT_HEADER,
    };
  }
  const type =
    typeof problem.elasticsearchType === 'string'
      ? problem.elasticsearchType
      : ['api_key_required', 'invalid_api_key', 'insufficient_scope'].includes(problem.code)
        ? 'security_exception'
        : problem.code === 'rate_limited'
          ? 'es_rejected_execution_exception'
          : problem.status >= 500
            ? 'exception'
            : 'illegal_argument_exception';
  const cause = { type, reason: problem.detail };
  return {
    status: problem.status,
    body: { error: { root_cause: [cause], ...cause }, status: problem.status },
    headers: ELASTIC_PRODUCT_HEADER,
  };
}
