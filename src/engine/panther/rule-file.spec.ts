import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../diagnostics.js';
import { loadRuleSource } from './rule-file.js';

const MINIMAL = `AnalysisType: rule
RuleID: Test.Minimal
LogTypes: [AWS.CloudTrail]
Severity: Low
Detection:
  - Key: eventName
    Condition: Equals
    Value: ConsoleLogin
`;

function errors(text: string, options: { ignoreExtraKeys?: boolean } = {}): Diagnostic[] {
  return loadRuleSource(text, { file: 'rule.yml', ...options }).diagnostics.filter(
    (d) => d.severity === 'error',
  );
}

function onlyError(text: string): Diagnostic {
  const found = errors(text);
  expect(found, JSON.stringify(found, null, 2)).toHaveLength(1);
  return found[0] as Diagnostic;
}

describe('loadRuleSource', () => {
  it('loads a minimal rule with the documented defaults', () => {
    const { rules, diagnostics } = loadRuleSource(MINIMAL);
    expect(diagnostics).toEqual([]);
    expect(rules).toHaveLength(1);
    const rule = rules[0];
    expect(rule).toMatchObject({
      ruleId: 'Test.Minimal',
      enabled: true,
      severity: 'Low',
      dedupPeriodMinutes: 60,
      threshold: 1,
      createAlert: true,
      logTypes: ['AWS.CloudTrail'],
      source: { line: 1 },
    });
  });

  it('names an unknown top-level key with its file, line and column', () => {
    const error = onlyError(`${MINIMAL}Sevrity: High\n`);
    expect(error).toMatchObject({
      code: 'unknown_key',
      key: 'Sevrity',
      file: 'rule.yml',
      line: 9,
      column: 1,
    });
    expect(error.message).toContain('Sevrity');
  });

  it('turns an unknown top-level key into a warning with ignoreExtraKeys', () => {
    const result = loadRuleSource(`${MINIMAL}Extra: 1\n`, { ignoreExtraKeys: true });
    expect(result.rules).toHaveLength(1);
    expect(result.diagnostics).toMatchObject([
      { severity: 'warning', code: 'unknown_key', key: 'Extra', line: 9 },
    ]);
  });

  it('refuses an unknown key inside a match expression even with ignoreExtraKeys', () => {
    const text = MINIMAL.replace('    Value: ConsoleLogin\n', '    Value: ConsoleLogin\n    Extra: Param\n');
    const found = errors(text, { ignoreExtraKeys: true });
    expect(found).toMatchObject([{ code: 'unknown_key', key: 'Detection[0].Extra', line: 9, column: 5 }]);
  });

  it('refuses a missing RuleID', () => {
    expect(onlyError(MINIMAL.replace('RuleID: Test.Minimal\n', ''))).toMatchObject({
      code: 'missing_key',
      key: 'RuleID',
    });
  });

  it('refuses a RuleID that could escape a path', () => {
    expect(onlyError(MINIMAL.replace('Test.Minimal', '../etc/passwd'))).toMatchObject({
      code: 'invalid_value',
      key: 'RuleID',
      line: 2,
    });
  });

  it('refuses an invalid Severity and accepts upper-case ones', () => {
    expect(onlyError(MINIMAL.replace('Severity: Low', 'Severity: Urgent'))).toMatchObject({
      code: 'invalid_value',
      key: 'Severity',
      line: 4,
    });
    expect(loadRuleSource(MINIMAL.replace('Severity: Low', 'Severity: CRITICAL')).rules[0]?.severity).toBe(
      'Critical',
    );
  });

  it('refuses wrong types and names the key', () => {
    expect(
      onlyError(MINIMAL.replace('LogTypes: [AWS.CloudTrail]', 'LogTypes: AWS.CloudTrail')),
    ).toMatchObject({
      code: 'wrong_type',
      key: 'LogTypes',
      line: 3,
    });
    expect(onlyError(`${MINIMAL}Enabled: "yes"\n`)).toMatchObject({ code: 'wrong_type', key: 'Enabled' });
    expect(onlyError(`${MINIMAL}DedupPeriodMinutes: 1.5\n`)).toMatchObject({
      code: 'wrong_type',
      key: 'DedupPeriodMinutes',
    });
    expect(onlyError(`${MINIMAL}Threshold: 0\n`)).toMatchObject({ code: 'invalid_value', key: 'Threshold' });
  });

  it('refuses both Filename and Detection, naming Filename', () => {
    expect(onlyError(`Filename: rule.py\n${MINIMAL}`)).toMatchObject({
      code: 'conflicting_keys',
      key: 'Filename',
      line: 1,
    });
  });

  it('reads a rule with Filename as a Python rule, its body from Body or from the file beside it', () => {
    const head = MINIMAL.slice(0, MINIMAL.indexOf('Detection:'));
    const missing = onlyError(`${head}Filename: rule.py\n`);
    expect(missing).toMatchObject({ code: 'missing_body', key: 'Filename', line: 5 });
    expect(missing.message).toMatch(/beside the YAML file, send it as Body, or upload both as multipart/);

    const body = 'def rule(event):\n    return True\n';
    const sent = loadRuleSource(`${head}Filename: rule.py\nBody: ${JSON.stringify(body)}\n`);
    expect(sent.diagnostics).toEqual([]);
    expect(sent.rules[0]?.detection).toEqual({ language: 'python', filename: 'rule.py', body });

    const beside = loadRuleSource(`${head}Filename: rule.py\n`, {
      companionFile: (name) => (name === 'rule.py' ? body : undefined),
    });
    expect(beside.rules[0]?.detection).toEqual({ language: 'python', filename: 'rule.py', body });

    expect(onlyError(`${head}Filename: ../etc/passwd.py\n`)).toMatchObject({
      code: 'invalid_value',
      key: 'Filename',
    });
    expect(onlyError(`${head}Body: "x = 1"\n`)).toMatchObject({ code: 'conflicting_keys', key: 'Body' });
  });

  it('refuses both Detection and Condition, and neither', () => {
    expect(onlyError(`${MINIMAL}Condition: eventName eq "x"\n`)).toMatchObject({
      code: 'conflicting_keys',
      key: 'Condition',
    });
    expect(onlyError(MINIMAL.slice(0, MINIMAL.indexOf('Detection:')))).toMatchObject({ code: 'missing_key' });
  });

  it('reports YAML syntax errors with line and column', () => {
    const error = onlyError('RuleID: [unclosed\nSeverity: Low\n');
    expect(error.code).toBe('yaml_syntax');
    expect(error.line).toBeGreaterThanOrEqual(1);
    expect(error.column).toBeGreaterThanOrEqual(1);
  });

  it('refuses duplicate keys in one mapping', () => {
    expect(errors(`${MINIMAL}Severity: High\n`)[0]).toMatchObject({ code: 'yaml_syntax' });
  });

  it('refuses YAML alias bombs', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    ].join('\n');
    expect(onlyError(bomb)).toMatchObject({ code: 'yaml_aliases' });
  });

  it('loads every document of a stream, and keeps each document source', () => {
    const second = MINIMAL.replace('Test.Minimal', 'Test.Second');
    const { rules, diagnostics } = loadRuleSource(`${MINIMAL}---\n${second}`);
    expect(diagnostics).toEqual([]);
    expect(rules.map((rule) => rule.ruleId)).toEqual(['Test.Minimal', 'Test.Second']);
    expect(rules[1]?.source.line).toBe(10);
    expect(rules[1]?.source.text).toContain('Test.Second');
    expect(rules[1]?.source.text).not.toContain('Test.Minimal');
  });

  it('reports the line of an error in a later document of a stream', () => {
    const second = MINIMAL.replace('Test.Minimal', 'Test.Second').replace('Severity: Low', 'Severity: Nope');
    const result = loadRuleSource(`${MINIMAL}---\n${second}`);
    expect(result.rules.map((rule) => rule.ruleId)).toEqual(['Test.Minimal']);
    expect(result.diagnostics).toMatchObject([{ key: 'Severity', line: 13 }]);
  });

  it('loads JSON rules', () => {
    const json = JSON.stringify({
      AnalysisType: 'rule',
      RuleID: 'Test.Json',
      LogTypes: ['AWS.CloudTrail'],
      Severity: 'High',
      Condition: 'eventName eq "ConsoleLogin"',
    });
    const { rules, diagnostics } = loadRuleSource(json, { file: 'rule.json' });
    expect(diagnostics).toEqual([]);
    expect(rules[0]?.detection).toMatchObject({
      language: 'condition',
      lines: ['eventName eq "ConsoleLogin"'],
    });
  });

  it('maps a condition syntax error to the line and column in the file', () => {
    const text = `${MINIMAL.slice(0, MINIMAL.indexOf('Detection:'))}Condition:\n  - eventName eq "x"\n  - "eventName frobs 1"\n`;
    const error = onlyError(text);
    expect(error).toMatchObject({ code: 'condition_syntax', key: 'Condition[1]', line: 7 });
    // The operator `frobs` starts at column 11 of the line, which begins after `  - "`.
    expect(error.column).toBe(5 + 1 + 10);
  });

  it('checks AlertTitle templates', () => {
    expect(onlyError(`${MINIMAL}AlertTitle: "User {userName"\n`)).toMatchObject({
      code: 'template_syntax',
      key: 'AlertTitle',
      line: 9,
    });
  });

  it('checks every part of the match-expression grammar', () => {
    const cases: [string, string, string][] = [
      ['    Condition: Equalz\n', 'unknown_condition', 'Detection[0].Condition'],
      ['    Condition: IsIn\n', 'invalid_value', 'Detection[0].Value'],
      ['    Condition: IsNull\n', 'invalid_value', 'Detection[0].Value'],
      ['    Condition: IsIPAddressInCIDR\n', 'invalid_value', 'Detection[0].Value'],
    ];
    for (const [replacement, code, key] of cases) {
      const text = MINIMAL.replace('    Condition: Equals\n', replacement);
      expect(onlyError(text), replacement).toMatchObject({ code, key });
    }
    const twoKeys = MINIMAL.replace(
      '  - Key: eventName\n    Condition: Equals\n    Value: ConsoleLogin\n',
      '  - Condition: Equals\n    Values:\n      - Key: a\n      - Key: b\n      - Key: c\n',
    );
    expect(onlyError(twoKeys)).toMatchObject({ code: 'invalid_value', key: 'Detection[0].Values' });
    const emptyAll = MINIMAL.replace(
      '  - Key: eventName\n    Condition: Equals\n    Value: ConsoleLogin\n',
      '  - All: []\n',
    );
    expect(onlyError(emptyAll)).toMatchObject({ key: 'Detection[0].All' });
    const badKeyPath = MINIMAL.replace('  - Key: eventName', '  - KeyPath: a..b');
    expect(onlyError(badKeyPath)).toMatchObject({ code: 'invalid_key_path', key: 'Detection[0].KeyPath' });
    const noneInFilter = `${MINIMAL}InlineFilters:\n  - None:\n      - Key: a\n        Condition: Exists\n`;
    expect(onlyError(noneInFilter)).toMatchObject({ code: 'not_allowed', key: 'InlineFilters[0].None' });
  });

  it('checks tests, outputs and dynamic severities', () => {
    expect(onlyError(`${MINIMAL}Tests:\n  - Name: t\n    Log: {}\n`)).toMatchObject({
      key: 'Tests[0].ExpectedResult',
    });
    expect(onlyError(`${MINIMAL}Tests:\n  - Name: t\n    ExpectedResult: true\n    Log: []\n`)).toMatchObject(
      {
        key: 'Tests[0].Log',
      },
    );
    expect(
      onlyError(`${MINIMAL}AlertContext:\n  - KeyName: a\n    KeyValue: {Key: a, Extra: 1}\n`),
    ).toMatchObject({
      key: 'AlertContext[0].KeyValue.Extra',
    });
    expect(onlyError(`${MINIMAL}GroupBy:\n  - Kee: a\n`)).toMatchObject({ key: 'GroupBy[0]' });
    expect(
      onlyError(
        `${MINIMAL}DynamicSeverities:\n  - ChangeTo: Huge\n    Conditions: [{Key: a, Condition: Exists}]\n`,
      ),
    ).toMatchObject({
      key: 'DynamicSeverities[0].ChangeTo',
    });
  });

  it('accepts a test Log given as a JSON string', () => {
    const { rules } = loadRuleSource(
      `${MINIMAL}Tests:\n  - Name: t\n    ExpectedResult: true\n    Log: '{"eventName": "ConsoleLogin"}'\n`,
    );
    expect(rules[0]?.tests[0]?.log).toEqual({ eventName: 'ConsoleLogin' });
  });

  it('reports an empty source', () => {
    expect(onlyError('')).toMatchObject({ code: 'empty' });
    expect(onlyError('# only a comment\n')).toMatchObject({ code: 'empty' });
  });

  it('keeps scheduled rules, which need no LogTypes, warning that they do not run yet', () => {
    const text =
      'AnalysisType: scheduled_rule\nRuleID: Test.Scheduled\nScheduledQueries: [Q]\nSeverity: Low\nDetection:\n  - Condition: AlwaysTrue\n';
    const { rules, diagnostics } = loadRuleSource(text);
    expect(diagnostics.map((d) => [d.severity, d.key, d.code])).toEqual([
      ['warning', 'AnalysisType', 'not_run'],
    ]);
    expect(rules[0]).toMatchObject({ analysisType: 'scheduled_rule', scheduledQueries: ['Q'], logTypes: [] });
  });
});
