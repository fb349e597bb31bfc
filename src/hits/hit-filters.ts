// The filters of GET /v1/hits, read from the query string: each bad one is a 400 naming it.
import { InvalidParametersError } from '../common/errors.js';
import {
  cursor,
  instant,
  list,
  pageSize,
  positiveId,
  rejectUnknown,
  single,
  type KeysetPosition,
  type RawQuery,
} from '../common/query-params.js';
import { SEVERITIES } from '../engine/rule.js';
import { MAX_FIELD_NAME, MAX_FIELD_VALUE } from '../ingest/hit-fields.js';

export const DEFAULT_HIT_PAGE = 100;
export const MAX_HIT_PAGE = 1000;
export const FIELD_PREFIX = 'field.';
/** Field filters one query may hold: each is an index range intersected with the others. */
export const MAX_FIELD_FILTERS = 20;
const KNOWN = ['ruleId', 'severity', 'logType', 'alertId', 'since', 'until', 'limit', 'cursor'];

export interface HitFilters {
  ruleId?: string;
  severities?: string[];
  logType?: string;
  alertId?: number;
  /** Event time, inclusive (epoch ms). */
  since?: number;
  /** Event time, exclusive (epoch ms). */
  until?: number;
  /** Output fields or p_any_* indicators: every one must match. */
  fields: { name: string; value: string }[];
  limit: number;
  after?: KeysetPosition;
}

export function severityList(query: RawQuery, name: string): string[] | undefined {
  const values = list(query, name);
  if (values === undefined) return undefined;
  return values.map((value) => {
    const found = SEVERITIES.find((severity) => severity.toLowerCase() === value.toLowerCase());
    if (!found)
      throw new InvalidParametersError([
        { parameter: name, message: `${name} must be one of ${SEVERITIES.join(', ')}` },
      ]);
    return found;
  });
}

/**
 * PostgreSQL keeps U+0000 in a hit's fields as U+FFFD, so a search for it would find other hits there;
 * it is refused on both databases alike.
 */
function refuseNul(parameter: string, value: string): void {
  if (value.includes('\u0000') || parameter.includes('\u0000')) {
    throw new InvalidParametersError([
      { parameter, message: 'a field filter cannot search for U+0000 (NUL) in a name or a value' },
    ]);
  }
}

export function parseHitFilters(query: RawQuery, defaults: { limit?: number } = {}): HitFilters {
  rejectUnknown(query, KNOWN, [FIELD_PREFIX]);
  const alertId = single(query, 'alertId');
  const since = instant(query, 'since');
  const until = instant(query, 'until');
  if (since !== undefined && until !== undefined && since >= until) {
    throw new InvalidParametersError([{ parameter: 'until', message: 'until must be later than since' }]);
  }
  const fieldParameters = Object.keys(query).filter((name) => name.startsWith(FIELD_PREFIX));
  if (fieldParameters.length > MAX_FIELD_FILTERS) {
    throw new InvalidParametersError([
      {
        parameter: fieldParameters[MAX_FIELD_FILTERS] as string,
        message: `at most ${MAX_FIELD_FILTERS} field.<name> filters may be given at once, not ${fieldParameters.length}`,
      },
    ]);
  }
  const fields = fieldParameters.map((parameter) => {
    const name = parameter.slice(FIELD_PREFIX.length);
    const value = single(query, parameter) ?? '';
    if (name === '' || name.length > MAX_FIELD_NAME || value === '' || value.length > MAX_FIELD_VALUE) {
      throw new InvalidParametersError([
        {
          parameter,
          message: `use field.<name>=<value> with a name of 1 to ${MAX_FIELD_NAME} and a value of 1 to ${MAX_FIELD_VALUE} characters`,
        },
      ]);
    }
    refuseNul(parameter, value);
    return { name, value };
  });
  return {
    ruleId: single(query, 'ruleId'),
    severities: severityList(query, 'severity'),
    logType: single(query, 'logType'),
    alertId: alertId === undefined ? undefined : positiveId(alertId, 'alertId'),
    since,
    until,
    fields,
    limit: pageSize(query, 'limit', defaults.limit ?? DEFAULT_HIT_PAGE, MAX_HIT_PAGE),
    after: cursor(query, 'cursor'),
  };
}
