import { describe, expect, it } from 'vitest';
import { compileRule } from './compile.js';
import { loadRuleSource } from './panther/rule-file.js';
import { describeFailure, runRuleTests } from './test-runner.js';

function results(tests: string) {
  const text = `AnalysisType: rule
RuleID: Test.Runner
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "ConsoleLogin"
AlertTitle: "Login by {p_udm.actor_user}"
AlertContext:
  - { KeyName: user, KeyValue: { KeyPath: p_udm.actor_user } }
Tests:
${tests}`;
  const { rules, diagnostics } = loadRuleSource(text);
  expect(diagnostics).toEqual([]);
  return runRuleTests(compileRule(rules[0] as NonNullable<(typeof rules)[0]>));
}

const LOGIN =
  '{ p_log_type: AWS.CloudTrail, eventName: ConsoleLogin, userIdentity: { type: IAMUser, userName: ann } }';

describe('rule test runner', () => {
  it('passes when every expectation holds, with the data model applied for p_log_type', () => {
    const [result] = results(`  - Name: ok
    ExpectedResult: true
    ExpectedTitle: Login by ann
    ExpectedDedup: Login by ann
    ExpectedSeverity: Low
    ExpectedAlertContext: { user: ann }
    Log: ${LOGIN}
`);
    expect(result).toMatchObject({ name: 'ok', passed: true, failures: [] });
    expect(result?.outputs?.title).toBe('Login by ann');
  });

  it('says which expectation failed, with the expected and the actual value', () => {
    const [result] = results(`  - Name: wrong
    ExpectedResult: true
    ExpectedTitle: Login by bob
    ExpectedSeverity: High
    ExpectedAlertContext: { user: bob, other: 1 }
    Log: ${LOGIN}
`);
    expect(result?.passed).toBe(false);
    expect(result?.failures.map(describeFailure)).toEqual([
      'ExpectedTitle: expected "Login by bob", got "Login by ann"',
      'ExpectedSeverity: expected "High", got "Low"',
      'ExpectedAlertContext.user: expected "bob", got "ann"',
      'ExpectedAlertContext.other: expected 1, got (missing)',
    ]);
  });

  it('reports a wrong ExpectedResult both ways', () => {
    const outcome = results(`  - Name: should match
    ExpectedResult: true
    Log: { eventName: Other }
  - Name: should not match
    ExpectedResult: false
    Log: { eventName: ConsoleLogin }
`);
    expect(outcome.map((r) => r.failures.map(describeFailure))).toEqual([
      ['ExpectedResult: expected true, got false'],
      ['ExpectedResult: expected false, got true'],
    ]);
  });

  it('never overwrites what the Log says, and leaves a Log without p_log_type alone', () => {
    const [withModel, without] = results(`  - Name: own p_udm wins
    ExpectedResult: true
    ExpectedTitle: Login by given
    Log: { p_log_type: AWS.CloudTrail, eventName: ConsoleLogin, p_udm: { actor_user: given }, userIdentity: { type: IAMUser, userName: ann } }
  - Name: no log type, no data model
    ExpectedResult: true
    ExpectedTitle: "Login by "
    Log: { eventName: ConsoleLogin, userIdentity: { type: IAMUser, userName: ann } }
`);
    expect(withModel?.passed).toBe(true);
    expect(without?.passed).toBe(true);
  });
});
