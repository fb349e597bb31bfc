import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../values.js';
import {
  CLOUDTRAIL_LOG_TYPE,
  cloudTrailActorUser,
  cloudTrailEventType,
  cloudTrailIndicators,
  cloudTrailUdm,
  isCloudTrailEvent,
} from './cloudtrail.js';
import { seedExternalPrincipalAccess } from '../../../test/fixtures/seed-events.js';
import { normaliseEvent, type NormaliseOptions } from './index.js';

const RECEIVED = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
const INGEST: NormaliseOptions = { receivedAt: RECEIVED, rowId: 'row-1', keepExisting: false };
const RULE_TEST: NormaliseOptions = { receivedAt: RECEIVED, rowId: 'row-1', keepExisting: true };

/** The seed rule's positive test log ("External Principal Access"). */
const seedPositiveLog = seedExternalPrincipalAccess;

function withIdentity(userIdentity: JsonObject, extra: JsonObject = {}): JsonObject {
  return {
    eventVersion: '1.08',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    eventType: 'AwsApiCall',
    userIdentity,
    ...extra,
  };
}

function assumed(
  issuerUserName: string | undefined,
  type = 'AssumedRole',
  principalId = 'AROAEXAMPLE:session',
): JsonObject {
  const sessionIssuer: JsonObject = { type: 'Role', accountId: '123456789012' };
  if (issuerUserName !== undefined) sessionIssuer.userName = issuerUserName;
  return { type, principalId, sessionContext: { sessionIssuer } };
}

describe('cloudTrailActorUser (the actor table)', () => {
  it('gives UnknownAWSAccount for the seed positive test', () => {
    expect(cloudTrailActorUser(seedPositiveLog())).toBe('UnknownAWSAccount');
    const normalised = normaliseEvent(seedPositiveLog(), CLOUDTRAIL_LOG_TYPE, RULE_TEST);
    expect(normalised.p_udm).toMatchObject({ actor_user: 'UnknownAWSAccount' });
  });

  describe('Root', () => {
    it('takes userName first', () => {
      expect(
        cloudTrailActorUser(withIdentity({ type: 'Root', userName: 'rooty', accountId: '123456789012' })),
      ).toBe('rooty');
    });
    it('falls back to accountId', () => {
      expect(cloudTrailActorUser(withIdentity({ type: 'Root', accountId: '123456789012' }))).toBe(
        '123456789012',
      );
      expect(
        cloudTrailActorUser(withIdentity({ type: 'Root', userName: '', accountId: '123456789012' })),
      ).toBe('123456789012');
    });
    it('pads an account id that a YAML log turned into a number', () => {
      expect(cloudTrailActorUser(withIdentity({ type: 'Root', accountId: 12345678901 }))).toBe(
        '012345678901',
      );
    });
    it('falls back to UnknownRootUser', () => {
      expect(cloudTrailActorUser(withIdentity({ type: 'Root' }))).toBe('UnknownRootUser');
      expect(cloudTrailActorUser(withIdentity({ type: 'Root', userName: null, accountId: null }))).toBe(
        'UnknownRootUser',
      );
    });
  });

  describe.each(['IAMUser', 'Directory', 'Unknown', 'SAMLUser', 'WebIdentityUser'])('%s', (type) => {
    it('takes userName', () => {
      expect(cloudTrailActorUser(withIdentity({ type, userName: 'alice', accountId: '123456789012' }))).toBe(
        'alice',
      );
    });
    it(`falls back to Unknown${type}`, () => {
      expect(cloudTrailActorUser(withIdentity({ type, accountId: '123456789012' }))).toBe(`Unknown${type}`);
      expect(cloudTrailActorUser(withIdentity({ type, userName: null }))).toBe(`Unknown${type}`);
    });
  });

  describe.each(['AssumedRole', 'Role', 'FederatedUser'])('%s', (type) => {
    it('takes sessionContext.sessionIssuer.userName', () => {
      expect(cloudTrailActorUser(withIdentity(assumed('Admin', type)))).toBe('Admin');
    });
    it('does not take the identity’s own userName', () => {
      expect(cloudTrailActorUser(withIdentity({ ...assumed(undefined, type), userName: 'not-me' }))).toBe(
        `Unknown${type}`,
      );
    });
    it(`falls back to Unknown${type}`, () => {
      expect(cloudTrailActorUser(withIdentity(assumed(undefined, type)))).toBe(`Unknown${type}`);
      expect(cloudTrailActorUser(withIdentity({ type }))).toBe(`Unknown${type}`);
      expect(cloudTrailActorUser(withIdentity({ type, sessionContext: { sessionIssuer: 'Admin' } }))).toBe(
        `Unknown${type}`,
      );
    });
    it('takes the session name after the colon of principalId for an AWSReservedSSO_ issuer', () => {
      const identity = assumed(
        'AWSReservedSSO_Admins_260008d6b2140109',
        type,
        'AROAQ24IPRMBUNTPNGG1D:jane@example.com',
      );
      expect(cloudTrailActorUser(withIdentity(identity))).toBe('jane@example.com');
    });
    it('keeps the SSO issuer name when principalId has no session part', () => {
      for (const principalId of ['AROAQ24IPRMBUNTPNGG1D', 'AROAQ24IPRMBUNTPNGG1D:']) {
        const identity = assumed('AWSReservedSSO_Admins_1', type, principalId);
        expect(cloudTrailActorUser(withIdentity(identity))).toBe('AWSReservedSSO_Admins_1');
      }
    });
  });

  describe('IdentityCenterUser', () => {
    it('takes the top-level additionalEventData.UserName', () => {
      const event = withIdentity(
        { type: 'IdentityCenterUser' },
        { additionalEventData: { UserName: 'jdoe' } },
      );
      expect(cloudTrailActorUser(event)).toBe('jdoe');
    });
    it('does not look for UserName inside userIdentity', () => {
      const event = withIdentity({ type: 'IdentityCenterUser', additionalEventData: { UserName: 'jdoe' } });
      expect(cloudTrailActorUser(event)).toBe('UnknownIdentityCenterUser');
    });
    it('falls back to UnknownIdentityCenterUser', () => {
      expect(cloudTrailActorUser(withIdentity({ type: 'IdentityCenterUser' }))).toBe(
        'UnknownIdentityCenterUser',
      );
    });
  });

  describe.each(['AWSService', 'AWSAccount'])('%s', (type) => {
    it('takes the event’s top-level sourceIdentity', () => {
      expect(cloudTrailActorUser(withIdentity({ type }, { sourceIdentity: 'someone' }))).toBe('someone');
    });
    it('ignores a sourceIdentity inside userIdentity and invokedBy', () => {
      const event = withIdentity({ type, sourceIdentity: 'inner', invokedBy: 'ec2.amazonaws.com' });
      expect(cloudTrailActorUser(event)).toBe(`Unknown${type}`);
    });
    it(`falls back to Unknown${type}`, () => {
      expect(cloudTrailActorUser(withIdentity({ type }))).toBe(`Unknown${type}`);
    });
  });

  describe('any other type', () => {
    it('takes userIdentity.invokedBy on an AwsServiceEvent', () => {
      const event = withIdentity(
        { accountId: '123837392027', invokedBy: 'ec2.amazonaws.com' },
        { eventType: 'AwsServiceEvent' },
      );
      expect(cloudTrailActorUser(event)).toBe('ec2.amazonaws.com');
      const typed = withIdentity(
        { type: 'SomethingNew', invokedBy: 'x.amazonaws.com' },
        { eventType: 'AwsServiceEvent' },
      );
      expect(cloudTrailActorUser(typed)).toBe('x.amazonaws.com');
    });
    it('gives UnknownUser on an AwsServiceEvent without invokedBy', () => {
      expect(cloudTrailActorUser(withIdentity({ accountId: '1' }, { eventType: 'AwsServiceEvent' }))).toBe(
        'UnknownUser',
      );
    });
    it('gives UnknownUser otherwise, even with invokedBy', () => {
      expect(cloudTrailActorUser(withIdentity({ type: 'SomethingNew', invokedBy: 'x.amazonaws.com' }))).toBe(
        'UnknownUser',
      );
      expect(cloudTrailActorUser(withIdentity({}))).toBe('UnknownUser');
      expect(cloudTrailActorUser({ eventName: 'X' })).toBe('UnknownUser');
      expect(cloudTrailActorUser({ userIdentity: 'IAMUser' })).toBe('UnknownUser');
    });
  });
});

describe('cloudTrailEventType', () => {
  const signIn = (outcome: string): JsonObject => ({
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    responseElements: { ConsoleLogin: outcome },
  });

  it('names console logins by their outcome', () => {
    expect(cloudTrailEventType(signIn('Success'))).toBe('successful_login');
    expect(cloudTrailEventType(signIn('Failure'))).toBe('failed_login');
    expect(cloudTrailEventType(signIn('Other'))).toBe('AwsConsoleSignIn');
  });

  it.each([
    ['CreateUser', 'user_account_created'],
    ['DeleteUser', 'user_account_deleted'],
    ['CreateGroup', 'user_group_created'],
    ['DeleteGroup', 'user_group_deleted'],
    ['DeactivateMFADevice', 'mfa_disabled'],
    ['DeleteVirtualMFADevice', 'mfa_disabled'],
  ])('names IAM %s', (eventName, expected) => {
    expect(
      cloudTrailEventType({ eventSource: 'iam.amazonaws.com', eventName, eventType: 'AwsApiCall' }),
    ).toBe(expected);
  });

  it('names an AdministratorAccess attachment, and only that policy', () => {
    const attach = (policyArn: string): JsonObject => ({
      eventSource: 'iam.amazonaws.com',
      eventName: 'AttachRolePolicy',
      eventType: 'AwsApiCall',
      requestParameters: { roleName: 'r', policyArn },
    });
    expect(cloudTrailEventType(attach('arn:aws:iam::aws:policy/AdministratorAccess'))).toBe(
      'admin_role_assigned',
    );
    expect(cloudTrailEventType(attach('arn:aws:iam::aws:policy/ReadOnlyAccess'))).toBe('AwsApiCall');
  });

  it('does not mistake another service’s same-named call', () => {
    expect(
      cloudTrailEventType({
        eventSource: 'greengrass.amazonaws.com',
        eventName: 'CreateGroup',
        eventType: 'AwsApiCall',
      }),
    ).toBe('AwsApiCall');
  });

  it('otherwise gives the raw eventType, or nothing', () => {
    expect(cloudTrailEventType(seedPositiveLog())).toBe('AwsVpceEvent');
    expect(cloudTrailEventType({ eventName: 'GetObject' })).toBeUndefined();
  });
});

describe('cloudTrailUdm', () => {
  it('maps source_ip, user_agent, user_account_id and event_type', () => {
    const event = withIdentity(
      { type: 'IAMUser', userName: 'alice', accountId: '123456789012' },
      { sourceIPAddress: 's3.amazonaws.com', userAgent: 'aws-cli/2', recipientAccountId: '999999999999' },
    );
    expect(cloudTrailUdm(event)).toEqual({
      actor_user: 'alice',
      source_ip: 's3.amazonaws.com',
      user_agent: 'aws-cli/2',
      user_account_id: '123456789012',
      event_type: 'AwsApiCall',
    });
  });

  it('leaves out what the event lacks, and never takes recipientAccountId as the actor’s account', () => {
    expect(
      cloudTrailUdm({ userIdentity: { type: 'AWSService' }, recipientAccountId: '999999999999' }),
    ).toEqual({
      actor_user: 'UnknownAWSService',
    });
  });
});

describe('cloudTrailIndicators', () => {
  it('gathers from the known fields, deduplicated and sorted', () => {
    const event: JsonObject = {
      sourceIPAddress: '203.0.113.9',
      recipientAccountId: '222222222222',
      vpcEndpointAccountId: '333333333333',
      sharedEventID: '444444444444',
      userIdentity: {
        type: 'AssumedRole',
        accountId: '222222222222',
        arn: 'arn:aws:sts::222222222222:assumed-role/Admin/session',
        userName: 'ignored-but-gathered',
        sessionContext: {
          sessionIssuer: {
            accountId: '222222222222',
            arn: 'arn:aws:iam::222222222222:role/Admin',
            userName: 'Admin',
          },
        },
      },
      resources: [
        { accountId: '111111111111', ARN: 'arn:aws:iam::555555555555:role/Other' },
        { accountId: '111111111111', ARN: 'arn:aws:iam::222222222222:role/Admin' },
        { ARN: 'arn:aws:s3:::bucket' },
        { ARN: 'not-an-arn' },
        'a string',
        null,
        [],
      ],
      requestParameters: { roleArn: 'arn:aws:iam::666666666666:role/NotScanned', sourceIp: '198.51.100.1' },
    };
    expect(cloudTrailIndicators(event)).toEqual({
      p_any_ip_addresses: ['203.0.113.9'],
      p_any_aws_account_ids: ['111111111111', '222222222222', '333333333333', '555555555555'],
      p_any_aws_arns: [
        'arn:aws:iam::222222222222:role/Admin',
        'arn:aws:iam::555555555555:role/Other',
        'arn:aws:s3:::bucket',
        'arn:aws:sts::222222222222:assumed-role/Admin/session',
      ],
      p_any_usernames: ['Admin', 'ignored-but-gathered'],
    });
  });

  it.each(['s3.amazonaws.com', 'AWS Internal', 'not an ip', '10.0.0.256', ''])(
    'does not take the service name or non-address %j as an IP',
    (sourceIPAddress) => {
      expect(cloudTrailIndicators({ sourceIPAddress }).p_any_ip_addresses).toBeUndefined();
    },
  );

  it('takes IPv6 addresses', () => {
    expect(cloudTrailIndicators({ sourceIPAddress: '2001:db8::1' }).p_any_ip_addresses).toEqual([
      '2001:db8::1',
    ]);
  });

  it('takes additionalEventData.UserName as a username for an IdentityCenterUser only', () => {
    const identityCenter = {
      userIdentity: { type: 'IdentityCenterUser' },
      additionalEventData: { UserName: 'jdoe' },
    };
    expect(cloudTrailIndicators(identityCenter).p_any_usernames).toEqual(['jdoe']);
    const iamUser = { userIdentity: { type: 'IAMUser' }, additionalEventData: { UserName: 'jdoe' } };
    expect(cloudTrailIndicators(iamUser).p_any_usernames).toBeUndefined();
  });

  it('finds nothing in an empty event', () => {
    expect(cloudTrailIndicators({})).toEqual({
      p_any_ip_addresses: undefined,
      p_any_aws_account_ids: undefined,
      p_any_aws_arns: undefined,
      p_any_usernames: undefined,
    });
  });

  // Linear in the resources: a pairwise comparison would take 10^10 steps, past the test's timeout.
  it('takes a hostile number of resources', () => {
    const resources = Array.from({ length: 100_000 }, (_, index) => ({
      accountId: String(index % 7).padStart(12, '0'),
      ARN: `arn:aws:s3:::bucket-${index % 13}`,
    }));
    const found = cloudTrailIndicators({ resources });
    expect(found.p_any_aws_account_ids).toHaveLength(7);
    expect(found.p_any_aws_arns).toHaveLength(13);
  });
});

describe('normaliseEvent for AWS.CloudTrail', () => {
  it('adds every p_ field on ingest', () => {
    const event = normaliseEvent(seedPositiveLog(), CLOUDTRAIL_LOG_TYPE, INGEST);
    expect(event).toMatchObject({
      p_log_type: 'AWS.CloudTrail',
      p_event_time: '2023-03-01T00:00:00.000Z',
      p_parse_time: '2024-01-02T03:04:05.006Z',
      p_row_id: 'row-1',
      p_any_ip_addresses: ['10.0.0.1'],
      p_any_aws_account_ids: ['111111111111', '222222222222'],
      p_udm: {
        actor_user: 'UnknownAWSAccount',
        source_ip: '10.0.0.1',
        user_account_id: '111111111111',
        event_type: 'AwsVpceEvent',
      },
    });
    // Nothing found: the fields are left out rather than set to empty lists.
    expect(event).not.toHaveProperty('p_any_aws_arns');
    expect(event).not.toHaveProperty('p_any_usernames');
  });

  it('falls back to p_event_time, then to the receive time, when eventTime is missing or unreadable', () => {
    const withOld = { ...seedPositiveLog(), eventTime: 'garbage', p_event_time: '2022-11-21 18:06:52' };
    expect(normaliseEvent(withOld, CLOUDTRAIL_LOG_TYPE, INGEST).p_event_time).toBe(
      '2022-11-21T18:06:52.000Z',
    );
    const without = { ...seedPositiveLog(), eventTime: undefined };
    expect(normaliseEvent(without, CLOUDTRAIL_LOG_TYPE, INGEST).p_event_time).toBe(
      '2024-01-02T03:04:05.006Z',
    );
  });

  it('on ingest replaces stale p_ fields and removes stale indicators', () => {
    const event: JsonObject = {
      ...seedPositiveLog(),
      p_log_type: 'Okta.SystemLog',
      p_event_time: '1999-01-01 00:00:00',
      p_row_id: 'forged',
      p_any_aws_arns: ['arn:aws:iam::999999999999:root'],
      p_udm: { actor_user: 'forged', extra: 1 },
      p_source_label: 'kept',
    };
    normaliseEvent(event, CLOUDTRAIL_LOG_TYPE, INGEST);
    expect(event.p_log_type).toBe('AWS.CloudTrail');
    expect(event.p_event_time).toBe('2023-03-01T00:00:00.000Z');
    expect(event.p_row_id).toBe('row-1');
    expect(event).not.toHaveProperty('p_any_aws_arns');
    expect(event.p_udm).toEqual(cloudTrailUdm(seedPositiveLog()));
    expect(event.p_source_label).toBe('kept');
  });

  describe('keepExisting (rule tests)', () => {
    it('never overwrites a field the log has, whatever its value', () => {
      const given: JsonObject = {
        p_log_type: 'AWS.CloudTrail',
        p_event_time: '2022-11-21 18:06:52',
        p_parse_time: '2022-11-21 18:07:38.9',
        p_row_id: 'e6f7bd65083bfeb7feced38f0da18a01',
        p_any_ip_addresses: ['192.0.2.1'],
        p_any_aws_account_ids: [],
        p_any_aws_arns: null,
        p_any_usernames: 'not even a list',
      };
      const event = normaliseEvent({ ...seedPositiveLog(), ...given }, CLOUDTRAIL_LOG_TYPE, RULE_TEST);
      expect(event).toMatchObject(given);
      expect(event.p_any_aws_arns).toBeNull();
    });

    it('adds what is missing', () => {
      const event = normaliseEvent(
        { ...seedPositiveLog(), p_log_type: 'AWS.CloudTrail', p_any_ip_addresses: ['192.0.2.1'] },
        CLOUDTRAIL_LOG_TYPE,
        RULE_TEST,
      );
      expect(event.p_any_ip_addresses).toEqual(['192.0.2.1']);
      expect(event.p_any_aws_account_ids).toEqual(['111111111111', '222222222222']);
      expect(event.p_event_time).toBe('2023-03-01T00:00:00.000Z');
      expect(event.p_row_id).toBe('row-1');
    });

    it('fills only the missing keys of an existing p_udm', () => {
      const event = normaliseEvent(
        { ...seedPositiveLog(), p_udm: { actor_user: 'given', source_ip: null, custom: true } },
        CLOUDTRAIL_LOG_TYPE,
        RULE_TEST,
      );
      expect(event.p_udm).toEqual({
        actor_user: 'given',
        source_ip: null,
        custom: true,
        user_account_id: '111111111111',
        event_type: 'AwsVpceEvent',
      });
    });

    it('leaves a p_udm that is not an object alone', () => {
      const event = normaliseEvent({ ...seedPositiveLog(), p_udm: null }, CLOUDTRAIL_LOG_TYPE, RULE_TEST);
      expect(event.p_udm).toBeNull();
    });
  });

  it('does not pollute prototypes through __proto__ or constructor keys', () => {
    const text = JSON.stringify({
      ...seedPositiveLog(),
      userIdentity: { type: 'IAMUser', userName: 'alice', accountId: '111111111111' },
    }).replace(
      '{',
      '{"__proto__":{"polluted":true,"userIdentity":{"type":"Root","userName":"evil"},"p_udm":{"actor_user":"evil"}},' +
        '"constructor":{"prototype":{"polluted":true}},',
    );
    const event = JSON.parse(text) as JsonObject;
    const resources = JSON.parse(
      '[{"__proto__":{"ARN":"arn:aws:iam::999999999999:root","polluted":true}}]',
    ) as unknown;
    event.resources = resources;
    normaliseEvent(event, CLOUDTRAIL_LOG_TYPE, INGEST);
    normaliseEvent(event, CLOUDTRAIL_LOG_TYPE, RULE_TEST);

    expect(({} as JsonObject).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(event.p_udm).toMatchObject({ actor_user: 'alice' });
    expect(event.p_any_aws_arns).toBeUndefined();
    expect(Object.getPrototypeOf(event.p_udm)).toBe(Object.prototype);
    // The keys survive as plain data.
    expect(Object.keys(event)).toContain('__proto__');
    expect(Object.keys(event)).toContain('constructor');
  });

  it('is recognised by shape, including the seed positive test', () => {
    expect(isCloudTrailEvent(seedPositiveLog())).toBe(true);
    expect(isCloudTrailEvent({ ...seedPositiveLog(), eventVersion: 1.08 })).toBe(true);
    expect(isCloudTrailEvent({ ...seedPositiveLog(), userIdentity: undefined })).toBe(true);
    expect(
      isCloudTrailEvent({ ...seedPositiveLog(), userIdentity: undefined, recipientAccountId: undefined }),
    ).toBe(false);
    expect(isCloudTrailEvent({ ...seedPositiveLog(), eventSource: undefined })).toBe(false);
  });

  it('is recognised without eventVersion when eventSource is an AWS endpoint, as hand-written events are', () => {
    const handWritten = {
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      userIdentity: { type: 'Root', accountId: '123456789012' },
    };
    expect(isCloudTrailEvent(handWritten)).toBe(true);
    expect(
      isCloudTrailEvent({ ...handWritten, userIdentity: undefined, recipientAccountId: '123456789012' }),
    ).toBe(true);
    // Not an AWS endpoint, and no eventVersion: another source that happens to use these names.
    expect(isCloudTrailEvent({ ...handWritten, eventSource: 'login.example.com' })).toBe(false);
    // An endpoint alone is not enough: no identity, no account.
    expect(isCloudTrailEvent({ eventName: 'GetObject', eventSource: 's3.amazonaws.com' })).toBe(false);
  });
});
