// Request examples for the OpenAPI document: the founding rule, so that "Try it out" → "Execute" in
// Swagger UI works as it stands. Its test logs are the seed's three events, shared with the ingest example.
import { INGEST_EXAMPLE } from '../ingest/ingest-examples.js';

const [externalAccess, sameAccount, nonVpc] = INGEST_EXAMPLE;

/** A test Log as a JSON block (JSON is YAML) indented under its key. */
function yamlLog(event: object | undefined): string {
  return `\n${JSON.stringify(event, null, 2)
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n')}`;
}

export const SEED_RULE_EXAMPLE = `AnalysisType: rule
RuleID: AWS.CloudTrail.VPCE.ExternalPrincipal
DisplayName: External Principal Accessing AWS Resources Via VPC Endpoint
Enabled: true
LogTypes:
  - AWS.CloudTrail
Tags:
  - AWS
  - CloudTrail
  - VPCEndpoint
  - Network Boundary Bridging
  - Cloud Service Discovery
  - Exfiltration Over Alternative Protocol
Reports:
  MITRE ATT&CK:
    - TA0005:T1599 # Network Boundary Bridging
    - TA0007:T1526 # Cloud Service Discovery
    - TA0010:T1048 # Exfiltration Over Alternative Protocol
Severity: Medium
Description: >
  This rule detects when a principal from one AWS account accesses resources in a different AWS account using a VPC Endpoint.
  While cross-account access may be expected in some cases, it could also indicate unauthorized lateral movement between AWS accounts.
Runbook: |
  1. Identify the principal account and the accessed account from the alert context.
  2. Verify if the cross-account access is expected and authorized.
  3. If the access is unexpected, review the API calls made by the principal and the VPC Endpoint configuration.
  4. Document findings and take appropriate remediation steps based on investigation.
Reference: https://www.wiz.io/blog/aws-vpc-endpoint-cloudtrail
Condition:
  - not (eventType ne "AwsVpceEvent" or eventCategory ne "NetworkActivity")
  - userIdentity.type eq "AWSAccount"
  - userIdentity not contains "arn"
  - userIdentity contains "principalId"
  - recipientAccountId is_not_null
  - userIdentity.accountId is_not_null
  - recipientAccountId cross_field_compare "userIdentity.accountId"
AlertTitle: External Principal [{p_udm.actor_user}] from account [{userIdentity.accountId}] accessing resources in account [{recipientAccountId}]
AlertContext:
  - { KeyName: eventName, KeyValue: { Key: eventName } }
  - { KeyName: eventSource, KeyValue: { Key: eventSource } }
  - { KeyName: awsRegion, KeyValue: { Key: awsRegion } }
  - { KeyName: recipientAccountId, KeyValue: { Key: recipientAccountId } }
  - { KeyName: sourceIPAddress, KeyValue: { Key: sourceIPAddress } }
  - { KeyName: userAgent, KeyValue: { Key: userAgent } }
  - { KeyName: userIdentity, KeyValue: { Key: userIdentity } }
  - { KeyName: actor_user, KeyValue: { KeyPath: p_udm.actor_user } }
  - { KeyName: accountId, KeyValue: { KeyPath: userIdentity.accountId } }
Tests:
  - Name: External Principal Access
    ExpectedResult: true
    ExpectedTitle: External Principal [UnknownAWSAccount] from account [111111111111] accessing resources in account [222222222222]
    Log:${yamlLog({ p_log_type: 'AWS.CloudTrail', ...externalAccess })}
  - Name: Same Account Access
    ExpectedResult: false
    Log:${yamlLog(sameAccount)}
  - Name: Non-VPC Event
    ExpectedResult: false
    Log:${yamlLog(nonVpc)}
`;

export const PACK_EXAMPLE = `AnalysisType: rule
RuleID: Example.CloudTrail.RootLogin
LogTypes: [AWS.CloudTrail]
Severity: High
Condition:
  - eventName eq "ConsoleLogin"
  - userIdentity.type eq "Root"
AlertTitle: Root console login from {sourceIPAddress}
Tests:
  - Name: Root login
    ExpectedResult: true
    Log: { eventName: ConsoleLogin, sourceIPAddress: 198.51.100.7, userIdentity: { type: Root } }
---
AnalysisType: rule
RuleID: Example.CloudTrail.TrailStopped
LogTypes: [AWS.CloudTrail]
Severity: Medium
Detection:
  - Key: eventName
    Condition: IsIn
    Values: [StopLogging, DeleteTrail]
  - Key: errorCode
    Condition: DoesNotExist
Tests:
  - Name: Trail stopped
    ExpectedResult: true
    Log: { eventName: StopLogging }
  - Name: Failed attempt
    ExpectedResult: false
    Log: { eventName: StopLogging, errorCode: AccessDenied }
`;

/**
 * What an upload of the seed rule answers: `created` (201), `unchanged` (200) when sent again, or `updated`
 * (200, version 2) when PUT changes it.
 */
export function uploadResultExample(action: 'created' | 'updated' | 'unchanged'): Record<string, unknown> {
  return {
    action,
    rule: {
      ruleId: 'AWS.CloudTrail.VPCE.ExternalPrincipal',
      version: action === 'updated' ? 2 : 1,
      enabled: true,
      displayName: 'External Principal Accessing AWS Resources Via VPC Endpoint',
      description:
        'Detects when a principal from one AWS account accesses resources in a different account through a VPC endpoint.',
      severity: 'Medium',
      logTypes: ['AWS.CloudTrail'],
      tags: ['AWS', 'CloudTrail', 'VPC'],
      reports: { 'MITRE ATT&CK': ['TA0005:T1599', 'TA0007:T1526', 'TA0010:T1048'] },
      analysisType: 'rule',
      detectionLanguage: 'condition',
      running: true,
      origin: 'api',
      tests: { passed: 3, failed: 0 },
      errors: { count: 0, last: null, lastAt: null },
      createdAt: '2026-01-02T10:00:00.000Z',
      updatedAt: action === 'updated' ? '2026-01-05T09:00:00.000Z' : '2026-01-02T10:00:00.000Z',
    },
    tests: [{ name: 'External Principal Access', passed: true, failures: [] }],
    warnings: [],
  };
}
