// The rule set's index and deferred normalisation are shortcuts: with them, every event must give exactly
// the hits that evaluating every rule on the fully normalised event gives.
import { describe, expect, it } from 'vitest';
import { compileRule } from './compile.js';
import { prepareEvent } from './events.js';
import { loadRuleSource } from './panther/rule-file.js';
import type { RuleDefinition } from './rule.js';
import { describeRequirement } from './formats/requirements.js';
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
  // Text, networks, presence and nested keys: each filed under its own field.
  rule('Condition.Prefix', 'Condition: eventName startswith "Delete" and errorCode exists'),
  rule('Condition.Suffix', 'Condition: userIdentity.arn endswith ":root"'),
  rule('Condition.Contains', 'Condition: userAgent contains "kali"'),
  rule('Condition.ContainsList', 'Condition: resources contains "arn:aws:s3:::b"'),
  rule('Condition.Nested', 'Condition: userIdentity.type eq "Root" and eventSource ne "s3.amazonaws.com"'),
  rule('Condition.Ordered', 'Condition: eventVersion gte "1.09"'),
  rule('Condition.OrFields', 'Condition: eventName startswith "Stop" or userAgent contains "Boto3"'),
  rule('Panther.IContains', 'Detection:\n  - Key: userAgent\n    Condition: IContains\n    Value: KALI'),
  rule(
    'Panther.IStartsWith.Nested',
    'Detection:\n  - KeyPath: userIdentity.userName\n    Condition: IStartsWith\n    Value: ANN',
  ),
  rule('Panther.IEquals', 'Detection:\n  - Key: eventName\n    Condition: IEquals\n    Value: consolelogin'),
  rule(
    'Panther.EndsWith',
    'Detection:\n  - Key: eventSource\n    Condition: EndsWith\n    Value: s3.amazonaws.com',
  ),
  rule(
    'Panther.CIDR',
    'Detection:\n  - Key: sourceIPAddress\n    Condition: IsIPAddressInCIDR\n    Values: [198.51.100.0/24, "2001:db8::/32"]',
  ),
  rule(
    'Panther.Exists.Deep',
    'Detection:\n  - DeepKey: [requestParameters, bucketName]\n    Condition: Exists',
  ),
  rule(
    'Panther.OnlyOne',
    'Detection:\n  - OnlyOne:\n      - Key: errorCode\n        Condition: Equals\n        Value: Throttling\n      - Key: userAgent\n        Condition: StartsWith\n        Value: aws-cli',
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
  { ...BASE, eventName: 'DeleteBucket', errorCode: 'AccessDenied', userAgent: 'aws-cli/2.0 kali-linux' },
  { ...BASE, eventName: 'DeleteBucket', userAgent: 'Mozilla KALI' },
  { ...BASE, eventName: 'StopLogging', userAgent: ['kali'], resources: ['arn:aws:s3:::b'] },
  { ...BASE, eventName: 'PutObject', resources: 'arn:aws:s3:::bucket', eventVersion: '1.10' },
  { ...BASE, eventName: 'PutObject', resources: { 'arn:aws:s3:::b': true }, userAgent: 'Boto3/1.2' },
  { ...BASE, eventName: 'GetObject', userIdentity: { type: 'Root', arn: 'arn:aws:iam::1:root' } },
  { ...BASE, eventName: 'GetObject', UserIdentity: { Type: 'Root', USERNAME: 'Annie' } },
  { ...BASE, eventName: 'CONSOLELOGIN', sourceIPAddress: '2001:db8::7', EVENTSOURCE: 'x.s3.amazonaws.com' },
  {
    ...BASE,
    eventName: 'GetObject',
    sourceIPAddress: '198.51.101.7',
    requestParameters: { bucketName: null },
  },
  { ...BASE, eventName: 'GetObject', sourceIPAddress: '::ffff:198.51.100.7', errorCode: 'Throttling' },
  { ...BASE, eventName: 'GetObject', errorCode: 'Throttling', userAgent: 'aws-cli/1' },
];

/** What every rule says about a fully normalised copy: the reference. */
function everyRule(event: Record<string, unknown>): string[] {
  const prepared = prepareEvent(structuredClone(event), {
    logType: 'AWS.CloudTrail',
    receivedAt: new Date(0),
  });
  if (!prepared.ok) throw new Error(prepared.error);
  return RULES.map((definition) => compileRule(definition))
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
    const requirements = (definition: RuleDefinition) =>
      keyRequirements(compileRule(definition)).map(describeRequirement);
    const byId = (ruleId: string) => RULES.find((candidate) => candidate.ruleId === ruleId) as RuleDefinition;
    expect(requirements(byId('Panther.Equals'))).toEqual(['eventName=ConsoleLogin']);
    expect(requirements(byId('Panther.IsIn.All'))).toEqual([
      'eventName=DeleteTrail|StopLogging',
      'userIdentity.type=Root',
    ]);
    expect(requirements(byId('Panther.Any'))).toEqual(['eventName=ConsoleLogin or errorCode?']);
    expect(requirements(byId('Condition.In'))).toEqual([
      'eventName=DeleteTrail|ConsoleLogin',
      'sourceIPAddress?',
    ]);
    expect(requirements(byId('Condition.Or'))).toEqual(['eventName=DeleteTrail|ConsoleLogin']);
    expect(requirements(byId('Number.Name'))).toEqual([]);
    expect(requirements(byId('Derived.Udm'))).toEqual([]);
    expect(requirements(byId('Condition.Prefix'))).toEqual(['eventName~Delete*', 'errorCode?']);
    expect(requirements(byId('Condition.OrFields'))).toEqual(['eventName~Stop* or userAgent~*Boto3*']);
    expect(requirements(byId('Panther.IContains'))).toEqual(['userAgent~i*kali*']);
    expect(requirements(byId('Panther.CIDR'))).toEqual(['sourceIPAddress in 198.51.100.0/24|2001:db8::/32']);
    expect(requirements(byId('Panther.Exists.Deep'))).toEqual(['requestParameters.bucketName?']);
    const negated = (condition: string) => requirements(rule('Negated', `Condition: ${condition}`));
    expect(negated('not (eventType ne "AwsVpceEvent" or eventCategory ne "NetworkActivity")')).toEqual([
      'eventType=AwsVpceEvent',
      'eventCategory=NetworkActivity',
    ]);
    expect(negated('not (eventName not in ["A", "B"])')).toEqual(['eventName=A|B']);
    expect(negated('not (eventName eq "A")')).toEqual([]);
    expect(negated('not (eventName ne "A" and eventSource ne "B")')).toEqual([
      'eventName=A or eventSource=B',
    ]);
    expect(negated('not (errorCode not exists)')).toEqual(['errorCode?']);
    expect(negated('eventName matches "^Delete" and not (userAgent not contains "x")')).toEqual([
      'eventName?',
      'userAgent~*x*',
    ]);
    expect(negated('eventName startswith "A" or eventName ne "B"')).toEqual([]);
  });

  it('leaves to each event only the rules whose requirements it meets', () => {
    const set = RuleSet.compile(RULES);
    const candidates = (event: Record<string, unknown>) =>
      set.candidatesFor(event, 'AWS.CloudTrail').map((candidate) => candidate.ruleId);
    // Met by every event here: eventVersion is there, the address is in 198.51.100.0/24, the user is ann.
    const always = [
      ...['Panther.LogType', 'Derived.Udm', 'Derived.Any', 'Number.Name'],
      // Rules that require no more than presence are evaluated on every event.
      ...['Condition.Ordered', 'Panther.Exists.Deep', 'Panther.CIDR', 'Panther.IStartsWith.Nested'],
    ];
    expect(candidates({ ...BASE, eventName: 'ListBuckets' }).sort()).toEqual([...always].sort());
    expect(candidates({ ...BASE, eventName: 'DeleteTrail', userAgent: 'Kali' }).sort()).toEqual(
      // Only a rule's least shared requirement is counted when it is shared by few rules: Condition.Prefix
      // (not its `errorCode exists`) and Panther.IsIn.All (not its Root) are left to their detection.
      [
        ...always,
        ...['Condition.In', 'Condition.Or', 'Condition.Prefix', 'Panther.IContains', 'Panther.IsIn.All'],
      ].sort(),
    );
    expect(
      candidates({ ...BASE, eventName: 'DeleteTrail', errorCode: 'x', userIdentity: { type: 'Root' } }),
    ).toEqual(
      RULES.map((definition) => definition.ruleId).filter((ruleId) =>
        [...always, 'Panther.Any', 'Panther.IsIn.All', 'Condition.In', 'Condition.Or']
          .concat(['Condition.Prefix', 'Condition.Nested'])
          .filter((id) => id !== 'Panther.IStartsWith.Nested')
          .includes(ruleId),
      ),
    );
  });
});
