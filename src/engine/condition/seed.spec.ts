// The founding rule AWS.CloudTrail.VPCE.ExternalPrincipal: its seven condition lines, verbatim from
// the catalogue's "Detection logic", against its three test events as written (no normaliser).
import { describe, expect, it } from 'vitest';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from '../../../test/fixtures/seed-events.js';
import { isPlainObject } from '../values.js';
import { compileCondition, compileConditionLines } from './index.js';

const SEED_CONDITION = [
  'not (eventType ne "AwsVpceEvent" or eventCategory ne "NetworkActivity")',
  'userIdentity.type eq "AWSAccount"',
  'userIdentity not contains "arn"',
  'userIdentity contains "principalId"',
  'recipientAccountId is_not_null',
  'userIdentity.accountId is_not_null',
  'recipientAccountId cross_field_compare "userIdentity.accountId"',
] as const;

const externalPrincipalAccess = seedExternalPrincipalAccess();
const sameAccountAccess = seedSameAccountAccess();
const nonVpcEvent = seedNonVpcEvent();

describe('seed rule AWS.CloudTrail.VPCE.ExternalPrincipal', () => {
  const rule = compileConditionLines(SEED_CONDITION);

  it.each([
    { name: 'External Principal Access', log: externalPrincipalAccess, expected: true },
    { name: 'Same Account Access', log: sameAccountAccess, expected: false },
    { name: 'Non-VPC Event', log: nonVpcEvent, expected: false },
  ])('test "$name" gives $expected', ({ log, expected }) => {
    expect(rule(log)).toBe(expected);
  });

  it('holds on every line for the positive test, so no line is vacuously skipped', () => {
    for (const line of SEED_CONDITION) expect(compileCondition(line)(externalPrincipalAccess)).toBe(true);
  });

  it('fails the same-account test only on the cross-field line', () => {
    const failing = SEED_CONDITION.filter((line) => !compileCondition(line)(sameAccountAccess));
    expect(failing).toEqual(['recipientAccountId cross_field_compare "userIdentity.accountId"']);
  });

  it('fails the non-VPC test only on the event type line', () => {
    const failing = SEED_CONDITION.filter((line) => !compileCondition(line)(nonVpcEvent));
    expect(failing).toEqual([SEED_CONDITION[0]]);
  });

  it('does not fire when userIdentity carries an arn key', () => {
    const identity = externalPrincipalAccess.userIdentity;
    const withArn = {
      ...externalPrincipalAccess,
      userIdentity: { ...(isPlainObject(identity) ? identity : {}), arn: 'arn:aws:iam::111111111111:root' },
    };
    expect(rule(withArn)).toBe(false);
  });
});
