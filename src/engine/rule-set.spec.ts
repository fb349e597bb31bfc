// The rule set's index and deferred normalisation are shortcuts: with them, every event must give exactly
// the hits that evaluating every rule on the fully normalised event gives.
import { describe, expect, it } from 'vitest';
import { compileRule } from './compile.js';
import { prepareEvent } from './events.js';
import { loadRuleSource } from './panther/rule-file.js';
import type { RuleDefinition } from './rule.js';
import { keyRequirements, RuleSet } from './rule-set.js';

function rule(ruleId: string, body: string): RuleDefinition {
  const { rules, diagnostics } = loadRuleSource(
    `AnalysisType: rule\nRuleID: ${ruleId}\nLogTypes: [AWS.CloudTrail]\nSeverity: Low\n${body}`,
  );
  expect(diagnostics.filter((diagnostic) => diagnostic.severity === 'error')).toEqual([]);
  return rules[0] as RuleDefinition;
}

const RULES = [
  rule('Panther.Equals', 'Detection:\n  - Key: eventName\n    Condition: Equals\n    Value: ConsoleLogin'),
  rule(
    'Panther.IsIn.All',
    'Detection:\n  - All:\n      - Key: eventName\n        Condition: IsIn\n        Values: [DeleteTrail, StopLogging]\n      - KeyPath: userIdentity.type\n        Condition: Equals\n        Value: Root',
  ),
  rule(
    'Panther.Any',
    'Detection:\n  - Any:\n      - Key: eventName\n        Condition: Equals\n        Value: ConsoleLogin\n      - Key: errorCode\n        Condition: Exists',
  ),
  rule('Condition.In', 'Condition: eventName in ["DeleteTrail", "ConsoleLogin"] and sourceIPAddress exists'),
  rule('Condition.Source', 'Condition: eventSource eq "s3.amazonaws.com"'),
  rule('Condition.Or', 'Condition: eventName eq "DeleteTrail" or eventName eq "ConsoleLogin"'),
  rule('Derived.Udm', 'Condition: p_udm.actor_user eq "ann"'),
  rule(
    'Derived.Any',
    'Detection:\n  - Key: p_any_ip_addresses\n    Condition: Contains\n    Value: 198.51.100.7',
  ),
  rule('Number.Name', 'Condition: eventName eq 5'),
  // Rules with no requirement on eventName: a second index key (errorCode) takes them.
  rule('Panther.ErrorCode', 'Detection:\n  - Key: errorCode\n    Condition: Equals\n    Value: AccessDenied'),
  rule('Condition.ErrorCode', 'Condition: errorCode in ["AccessDenied", "Throttling"]'),
  rule('Condition.Not', 'Condition: not (eventName ne "GetObject" or eventSource ne "s3.amazonaws.com")'),
  // A p_ field is there only once the event is normalised: never an index key.
  rule('Condition.LogType', 'Condition: p_log_type eq "AWS.CloudTrail" and eventName eq "GetObject"'),
  rule(
    'Panther.LogType',
    'Detection:\n  - Key: p_log_type\n    Condition: Equals\n    Value: AWS.CloudTrail',
  ),
];

const BASE = {
  eventVersion: '1.08',
  eventTime: '2025-01-01T00:00:00Z',
  eventSource: 'signin.amazonaws.com',
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  userIdentity: { type: 'IAMUser', userName: 'ann', accountId: '111111111111' },
  recipientAccountId: '111111111111',
};

const EVENTS: Record<string, unknown>[] = [
  { ...BASE, eventName: 'ConsoleLogin' },
  { ...BASE, eventName: 'DeleteTrail', userIdentity: { type: 'Root', accountId: '111111111111' } },
  { ...BASE, eventName: 'StopLogging', userIdentity: { type: 'Root' }, errorCode: 'AccessDenied' },
  { ...BASE, eventName: 'GetObject', eventSource: 's3.amazonaws.com' },
  { ...BASE, eventName: 'ListBuckets', sourceIPAddress: 'AWS Internal' },
  { ...BASE, eventName: 5 },
  { ...BASE, eventName: null },
  // No eventName as written: Panther finds `EventName` ignoring case, so the index must not rule it out.
  { ...BASE, EventName: 'ConsoleLogin' },
  { ...BASE, eventName: 'GetObject', errorCode: 'AccessDenied' },
  { ...BASE, eventName: 'GetObject', errorCode: 'Throttling' },
  // Only Panther reads `ErrorCode` as errorCode.
  { ...BASE, eventName: 'GetObject', ErrorCode: 'AccessDenied' },
  { ...BASE, eventName: 'GetObject', errorCode: 403 },
];

/** What every rule says about a fully normalised copy: the reference. */
function everyRule(event: Record<string, unknown>): string[] {
  const prepared = prepareEvent(structuredClone(event), {
    logType: 'AWS.CloudTrail',
    receivedAt: new Date(0),
  });
  if (!prepared.ok) throw new Error(prepared.error);
  return RULES.map(compileRule)
    .map((compiled) => compiled.evaluate(prepared.event))
    .filter((hit) => hit !== null)
    .map((hit) => `${hit.ruleId} ${hit.title} ${JSON.stringify(hit.alertContext)}`);
}

describe('RuleSet', () => {
  it('gives, through its index and with deferred normalisation, exactly the hits of every rule', () => {
    const hitsOf = (set: RuleSet, event: Record<string, unknown>) => {
      const prepared = prepareEvent(structuredClone(event), {
        logType: 'AWS.CloudTrail',
        receivedAt: new Date(0),
        deferNormalisation: true,
      });
      if (!prepared.ok) throw new Error(prepared.error);
      return set
        .evaluate(prepared.event, prepared.logType, undefined, prepared.deferred)
        .map((hit) => `${hit.ruleId} ${hit.title} ${JSON.stringify(hit.alertContext)}`);
    };
    const shared = RuleSet.compile(RULES);
    for (const event of EVENTS) {
      const expected = everyRule(event);
      // A new set meets the event's values for the first time; the shared one may have met them before.
      expect(hitsOf(RuleSet.compile(RULES), event), JSON.stringify(event)).toEqual(expected);
      expect(hitsOf(shared, event), JSON.stringify(event)).toEqual(expected);
    }
  });

  it('normalises an event whose normalisation waits when it hits, and no other', () => {
    const set = RuleSet.compile([RULES[0] as RuleDefinition]);
    const options = { receivedAt: new Date(0), deferNormalisation: true };
    const miss = prepareEvent({ ...BASE, eventName: 'GetObject' }, options);
    const hit = prepareEvent({ ...BASE, eventName: 'ConsoleLogin' }, options);
    if (!miss.ok || !hit.ok) throw new Error('not prepared');
    expect(miss.eventTime).toBe('2025-01-01T00:00:00.000Z');
    expect(set.evaluate(miss.event, miss.logType, undefined, miss.deferred)).toEqual([]);
    expect(Object.keys(miss.event).filter((key) => key.startsWith('p_'))).toEqual([]);
    expect(set.evaluate(hit.event, hit.logType, undefined, hit.deferred)).toHaveLength(1);
    expect(hit.event).toMatchObject({
      p_log_type: 'AWS.CloudTrail',
      p_event_time: '2025-01-01T00:00:00.000Z',
      p_any_ip_addresses: ['198.51.100.7'],
      p_udm: { actor_user: 'ann', source_ip: '198.51.100.7' },
    });
    expect(hit.event.p_row_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('reads requirements from both languages, and none from what is not certain', () => {
    const keys = (definition: RuleDefinition) =>
      keyRequirements(compileRule(definition)).map(
        (requirement) => `${requirement.key}=${[...requirement.values].join('|')}`,
      );
    expect(keys(RULES[0] as RuleDefinition)).toEqual(['eventName=ConsoleLogin']);
    expect(keys(RULES[1] as RuleDefinition)).toEqual(['eventName=DeleteTrail|StopLogging']);
    expect(keys(RULES[2] as RuleDefinition)).toEqual([]);
    expect(keys(RULES[3] as RuleDefinition)).toEqual(['eventName=DeleteTrail|ConsoleLogin']);
    expect(keys(RULES[5] as RuleDefinition)).toEqual([]);
    expect(keys(RULES[8] as RuleDefinition)).toEqual([]);
    const negated = (condition: string) => keys(rule('Negated', `Condition: ${condition}`));
    expect(negated('not (eventType ne "AwsVpceEvent" or eventCategory ne "NetworkActivity")')).toEqual([
      'eventType=AwsVpceEvent',
      'eventCategory=NetworkActivity',
    ]);
    expect(negated('not (eventName not in ["A", "B"])')).toEqual(['eventName=A|B']);
    expect(negated('not (eventName eq "A")')).toEqual([]);
    expect(negated('not (eventName ne "A" and eventSource ne "B")')).toEqual([]);
  });
});
