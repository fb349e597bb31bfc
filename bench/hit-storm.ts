// Part 3: a rule that matches every event, so that every event of the batch becomes a stored hit. The
// floor gets the same rows the service stores: the normalised event, the rule's output fields and the
// indexed field rows (output fields and p_any_* indicators), prepared before its clock starts.
import Database from 'better-sqlite3';
import { prepareEvent } from '../src/engine/events.js';
import type { BareHit } from './bare-sqlite-insert.js';

export const STORM_RULE_ID = 'Bench.Storm.EveryEvent';
const STORM_DISPLAY_NAME = 'Every CloudTrail event (benchmark hit storm)';

export const STORM_RULE_YAML = `# The hit storm of bench/run.ts: every CloudTrail event has an eventVersion.
AnalysisType: rule
RuleID: ${STORM_RULE_ID}
DisplayName: ${STORM_DISPLAY_NAME}
Enabled: true
LogTypes:
  - AWS.CloudTrail
Severity: Info
DedupPeriodMinutes: 60
Detection:
  - Key: eventVersion
    Condition: Exists
AlertContext:
  - { KeyName: eventName, KeyValue: { Key: eventName } }
  - { KeyName: sourceIPAddress, KeyValue: { Key: sourceIPAddress } }
Tests:
  - Name: any CloudTrail event
    ExpectedResult: true
    Log: { eventVersion: '1.08', eventSource: s3.amazonaws.com, eventName: GetObject }
`;

/** The indicators the service indexes besides the output fields (src/ingest/hit-fields.ts names them). */
const INDICATORS = ['p_any_ip_addresses', 'p_any_aws_account_ids', 'p_any_aws_arns', 'p_any_usernames'];

function fieldText(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const sqliteTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);

/** The rows the storm rule gives for these events, as the floor inserts them. */
export function stormHits(lines: readonly string[]): BareHit[] {
  const receivedAt = new Date();
  return lines.map((line) => {
    const prepared = prepareEvent(JSON.parse(line), { receivedAt });
    if (!prepared.ok) throw new Error(`a storm event was refused: ${prepared.error}`);
    const event = prepared.event;
    const outputFields = {
      eventName: event.eventName ?? null,
      sourceIPAddress: event.sourceIPAddress ?? null,
    };
    const fields: BareHit['fields'] = [];
    const seen = new Set<string>();
    const add = (name: string, value: unknown) => {
      for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
        const text = fieldText(item);
        if (text === undefined || seen.has(`${name}\u0000${text}`)) continue;
        seen.add(`${name}\u0000${text}`);
        fields.push({ name, value: text });
      }
    };
    for (const [name, value] of Object.entries(outputFields)) add(name, value);
    for (const name of INDICATORS) add(name, event[name]);
    const eventTime = Date.parse(typeof event.p_event_time === 'string' ? event.p_event_time : '');
    return {
      ruleId: STORM_RULE_ID,
      severity: 'Info',
      title: STORM_DISPLAY_NAME,
      dedupKey: `defaultDedupString:${STORM_RULE_ID}`,
      logType: prepared.logType,
      eventTime: sqliteTime(Number.isNaN(eventTime) ? receivedAt.getTime() : eventTime),
      eventId: typeof event.eventID === 'string' ? event.eventID : null,
      outputFields: JSON.stringify(outputFields),
      event: JSON.stringify(event),
      fields,
    };
  });
}

/** What the service stored, read from its database file after it stopped. */
export function storedRows(databaseFile: string): { hits: number; fieldRows: number } {
  const database = new Database(databaseFile, { readonly: true });
  try {
    const count = (table: string) =>
      (database.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
    return { hits: count('hits'), fieldRows: count('hit_fields') };
  } finally {
    database.close();
  }
}
