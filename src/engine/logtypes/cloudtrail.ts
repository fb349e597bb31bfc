// AWS.CloudTrail: how it is recognised, its time and event id, its indicator fields, the p_udm data model
// and the forwarder names that mean it. This runs once per ingested event, so it reads the known fields
// directly instead of walking the event.
import { getOwn, isPlainObject, type JsonObject } from '../values.js';
import {
  compileDataModel,
  defineLogType,
  IndicatorList,
  isIpAddress,
  objectField,
  textField,
  type DataModelField,
  type LogTypeModule,
} from './common.js';
import { isoTimestamp } from './time.js';

export const CLOUDTRAIL_LOG_TYPE = 'AWS.CloudTrail';

/** The keys of p_udm, in the order they are written. */
export const UDM_KEYS = ['actor_user', 'source_ip', 'user_agent', 'user_account_id', 'event_type'] as const;
export type CloudTrailUdm = Partial<Record<(typeof UDM_KEYS)[number], string>> & { actor_user: string };

const ACCOUNT_ID = /^\d{12}$/;

/**
 * A CloudTrail record is recognised by fields that every record of every CloudTrail event type carries
 * and that other sources do not combine: `eventSource` and `eventName` (strings), plus a `userIdentity`
 * object or a `recipientAccountId` string, plus `eventVersion` (string, or a number in hand-written logs).
 * `eventVersion` may be left out when `eventSource` is an AWS service endpoint (`….amazonaws.com`), which
 * is as telling and which hand-written events always carry. `eventTime` is not required: a record without
 * it is still CloudTrail (p_event_time then falls back). Cheapest test first, so non-CloudTrail events
 * usually fail on the first own-property reads.
 */
export function isCloudTrailEvent(event: unknown): boolean {
  if (!isPlainObject(event)) return false;
  const source = getOwn(event, 'eventSource');
  if (typeof source !== 'string' || typeof getOwn(event, 'eventName') !== 'string') return false;
  const version = getOwn(event, 'eventVersion');
  if (typeof version !== 'string' && typeof version !== 'number' && !source.endsWith('.amazonaws.com'))
    return false;
  return (
    isPlainObject(getOwn(event, 'userIdentity')) || typeof getOwn(event, 'recipientAccountId') === 'string'
  );
}

/** `eventTime`, else a p_event_time the event arrived with, else `undefined` (the receive time is used). */
export function cloudTrailEventTime(event: JsonObject): string | undefined {
  return isoTimestamp(getOwn(event, 'eventTime')) ?? isoTimestamp(getOwn(event, 'p_event_time'));
}

/**
 * p_udm.actor_user by `userIdentity.type`: the switch below is the table. A value counts as present when it
 * is a non-empty string (or a number, which hand-written YAML logs produce for account ids).
 */
export function cloudTrailActorUser(event: JsonObject): string {
  const identity = objectField(event, 'userIdentity');
  const type = textField(identity, 'type');
  switch (type) {
    case 'Root':
      return textField(identity, 'userName') ?? accountIdField(identity, 'accountId') ?? 'UnknownRootUser';
    case 'IAMUser':
    case 'Directory':
    case 'Unknown':
    case 'SAMLUser':
    case 'WebIdentityUser':
      return textField(identity, 'userName') ?? `Unknown${type}`;
    case 'AssumedRole':
    case 'Role':
    case 'FederatedUser': {
      const issuer = objectField(objectField(identity, 'sessionContext'), 'sessionIssuer');
      const issuerName = textField(issuer, 'userName');
      if (issuerName === undefined) return `Unknown${type}`;
      // An IAM Identity Center permission set: the role is shared, the person is the session name.
      if (issuerName.startsWith('AWSReservedSSO_')) return sessionNameOf(identity) ?? issuerName;
      return issuerName;
    }
    case 'IdentityCenterUser':
      return textField(objectField(event, 'additionalEventData'), 'UserName') ?? 'UnknownIdentityCenterUser';
    case 'AWSService':
    case 'AWSAccount':
      return textField(event, 'sourceIdentity') ?? `Unknown${type}`;
    default:
      if (getOwn(event, 'eventType') === 'AwsServiceEvent') {
        return textField(identity, 'invokedBy') ?? 'UnknownUser';
      }
      return 'UnknownUser';
  }
}

/** The part of `principalId` after its first colon (`AROA…:jane@example.com` → `jane@example.com`). */
function sessionNameOf(identity: JsonObject | undefined): string | undefined {
  const principalId = textField(identity, 'principalId');
  if (principalId === undefined) return undefined;
  const colon = principalId.indexOf(':');
  return colon >= 0 && colon < principalId.length - 1 ? principalId.slice(colon + 1) : undefined;
}

/**
 * p_udm.event_type: Panther's standard event-type names for the few identity events that rules compare
 * against (`successful_login`, `failed_login`, `user_account_created`, `user_account_deleted`,
 * `user_group_created`, `user_group_deleted`, `mfa_disabled`, `admin_role_assigned`), matched on both
 * eventSource and eventName so that a same-named call of another service is not mistaken for them;
 * every other event gets its raw CloudTrail `eventType` (AwsApiCall, AwsServiceEvent, AwsConsoleSignIn,
 * AwsVpceEvent, …), and none when it has no eventType.
 */
export function cloudTrailEventType(event: JsonObject): string | undefined {
  const source = getOwn(event, 'eventSource');
  const name = getOwn(event, 'eventName');
  if (source === 'signin.amazonaws.com' && name === 'ConsoleLogin') {
    const outcome = getOwn(objectField(event, 'responseElements') ?? {}, 'ConsoleLogin');
    if (outcome === 'Success') return 'successful_login';
    if (outcome === 'Failure') return 'failed_login';
  } else if (source === 'iam.amazonaws.com') {
    switch (name) {
      case 'CreateUser':
        return 'user_account_created';
      case 'DeleteUser':
        return 'user_account_deleted';
      case 'CreateGroup':
        return 'user_group_created';
      case 'DeleteGroup':
        return 'user_group_deleted';
      case 'DeactivateMFADevice':
      case 'DeleteVirtualMFADevice':
        return 'mfa_disabled';
      case 'AttachUserPolicy':
      case 'AttachGroupPolicy':
      case 'AttachRolePolicy': {
        const policyArn = textField(objectField(event, 'requestParameters'), 'policyArn');
        if (policyArn?.endsWith(':policy/AdministratorAccess')) return 'admin_role_assigned';
        break;
      }
    }
  }
  return textField(event, 'eventType');
}

/**
 * p_udm as computed from the event. Keys whose source field is missing are left out; actor_user is always
 * there. source_ip is `sourceIPAddress` verbatim (it may be a service name such as `s3.amazonaws.com`).
 * user_account_id is the actor's `userIdentity.accountId` only: `recipientAccountId` is the account that
 * was acted on, and falling back to it would make a cross-account actor look local.
 */
export const CLOUDTRAIL_DATA_MODEL: readonly DataModelField[] = [
  { name: 'actor_user', value: cloudTrailActorUser },
  { name: 'source_ip', path: 'sourceIPAddress' },
  { name: 'user_agent', path: 'userAgent' },
  {
    name: 'user_account_id',
    value: (event) => accountIdField(objectField(event, 'userIdentity'), 'accountId'),
  },
  { name: 'event_type', value: cloudTrailEventType },
];

const readDataModel = compileDataModel(CLOUDTRAIL_DATA_MODEL);

export function cloudTrailUdm(event: JsonObject): CloudTrailUdm {
  return readDataModel(event) as CloudTrailUdm;
}

/** Sorted, deduplicated indicator values; a field is `undefined` (and left out) when nothing was found. */
export interface CloudTrailIndicators {
  p_any_ip_addresses: string[] | undefined;
  p_any_aws_account_ids: string[] | undefined;
  p_any_aws_arns: string[] | undefined;
  p_any_usernames: string[] | undefined;
}

/**
 * Indicators from the identity, resource and account fields only; request and response payloads are not
 * scanned (that would mean walking arbitrary JSON on the hot path).
 * - IP addresses: `sourceIPAddress` when it is an IPv4/IPv6 address (not `AWS Internal` or a service name).
 * - Account ids: userIdentity.accountId, its sessionIssuer.accountId, recipientAccountId,
 *   vpcEndpointAccountId, resources[*].accountId, and the 12-digit account field of every ARN below.
 * - ARNs (values starting `arn:`): userIdentity.arn, sessionIssuer.arn, resources[*].ARN.
 * - Usernames: userIdentity.userName, sessionIssuer.userName, and for an IdentityCenterUser
 *   additionalEventData.UserName.
 */
export function cloudTrailIndicators(event: JsonObject): CloudTrailIndicators {
  const identity = objectField(event, 'userIdentity');
  const issuer = objectField(objectField(identity, 'sessionContext'), 'sessionIssuer');
  const accounts = new IndicatorList();
  const arns = new IndicatorList();
  const usernames = new IndicatorList();
  accounts.add(accountIdField(identity, 'accountId'));
  accounts.add(accountIdField(issuer, 'accountId'));
  accounts.add(accountIdField(event, 'recipientAccountId'));
  accounts.add(accountIdField(event, 'vpcEndpointAccountId'));
  addArn(textField(identity, 'arn'), arns, accounts);
  addArn(textField(issuer, 'arn'), arns, accounts);
  const resources = getOwn(event, 'resources');
  if (Array.isArray(resources)) {
    for (const resource of resources as unknown[]) {
      if (!isPlainObject(resource)) continue;
      accounts.add(accountIdField(resource, 'accountId'));
      addArn(textField(resource, 'ARN'), arns, accounts);
    }
  }
  usernames.add(textField(identity, 'userName'));
  usernames.add(textField(issuer, 'userName'));
  if (textField(identity, 'type') === 'IdentityCenterUser') {
    usernames.add(textField(objectField(event, 'additionalEventData'), 'UserName'));
  }

  const sourceIp = getOwn(event, 'sourceIPAddress');
  return {
    p_any_ip_addresses: typeof sourceIp === 'string' && isIpAddress(sourceIp) ? [sourceIp] : undefined,
    p_any_aws_account_ids: accounts.result(),
    p_any_aws_arns: arns.result(),
    p_any_usernames: usernames.result(),
  };
}

/** The indicator fields CloudTrail events get. */
export const INDICATOR_KEYS = [
  'p_any_ip_addresses',
  'p_any_aws_account_ids',
  'p_any_aws_arns',
  'p_any_usernames',
] as const;

export const cloudTrailModule: LogTypeModule = defineLogType({
  name: CLOUDTRAIL_LOG_TYPE,
  recognise: {
    matches: isCloudTrailEvent,
    needs: 'AWS CloudTrail: eventSource, eventName, and userIdentity or recipientAccountId',
  },
  eventTime: cloudTrailEventTime,
  // Indicators and p_udm cost more than the time: ingest leaves them until a rule needs them.
  deferrable: true,
  eventId: (event) => {
    const id = getOwn(event, 'eventID');
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  },
  indicators: {
    fields: INDICATOR_KEYS,
    read: (event) => ({ ...cloudTrailIndicators(event) }),
  },
  dataModel: CLOUDTRAIL_DATA_MODEL,
  forwarderDefaults: { hecSourcetypes: ['aws:cloudtrail'], bulkIndices: ['cloudtrail*'] },
});

/**
 * An account id as text. Numbers come from hand-written YAML logs, where an unquoted `012345678901`
 * loses its leading zero: whole numbers below 10^12 are padded back to 12 digits.
 */
function accountIdField(object: JsonObject | undefined, key: string): string | undefined {
  if (object === undefined) return undefined;
  const value = getOwn(object, key);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 1e12) {
    return String(value).padStart(12, '0');
  }
  return textField(object, key);
}

/** Keeps a value that is an ARN, and the account id it names. */
function addArn(arn: string | undefined, arns: IndicatorList, accounts: IndicatorList): void {
  if (arn === undefined || !arn.startsWith('arn:')) return;
  arns.add(arn);
  accounts.add(accountOfArn(arn));
}

/** The account field of `arn:partition:service:region:account:resource`, when it is 12 digits. */
function accountOfArn(arn: string): string | undefined {
  let start = 0;
  for (let colons = 0; colons < 4; colons += 1) {
    start = arn.indexOf(':', start) + 1;
    if (start === 0) return undefined;
  }
  const end = arn.indexOf(':', start);
  if (end - start !== 12) return undefined;
  const account = arn.slice(start, end);
  return ACCOUNT_ID.test(account) ? account : undefined;
}
