import { describe, expect, it } from 'vitest';
import { compileRule } from './compile.js';
import { compileTemplate, MAX_DEDUP_LENGTH, MAX_TITLE_LENGTH, TemplateSyntaxError } from './outputs.js';
import { loadRuleSource } from './panther/rule-file.js';

function rule(extra: string) {
  const text = `AnalysisType: rule
RuleID: Test.Outputs
DisplayName: Outputs Rule
LogTypes: [Custom.Log]
Severity: Medium
Detection:
  - Condition: AlwaysTrue
${extra}`;
  const { rules, diagnostics } = loadRuleSource(text);
  expect(diagnostics).toEqual([]);
  return compileRule(rules[0] as NonNullable<(typeof rules)[0]>);
}

describe('AlertTitle templates', () => {
  it('inserts values by key path and writes literal braces', () => {
    const title = compileTemplate('User {user.name} from {ips[0]} said {{hi}} {n}');
    expect(title({ user: { name: 'ann' }, ips: ['1.2.3.4'], n: 3 })).toBe(
      'User ann from 1.2.3.4 said {hi} 3',
    );
  });

  it('writes a missing value as empty and a container as JSON', () => {
    const title = compileTemplate('[{missing}] [{obj}]');
    expect(title({ obj: { a: 1 } })).toBe('[] [{"a":1}]');
  });

  it('refuses unbalanced braces with the offset', () => {
    expect(() => compileTemplate('a {b')).toThrow(TemplateSyntaxError);
    expect(() => compileTemplate('a } b')).toThrow(/without/);
    try {
      compileTemplate('abc {x..y}');
    } catch (error) {
      expect((error as TemplateSyntaxError).offset).toBe(4);
    }
  });
});

describe('rule outputs', () => {
  it('defaults: title from DisplayName, dedup from the rule id, severity from Severity', () => {
    const outputs = rule('').outputs({});
    expect(outputs).toEqual({
      title: 'Outputs Rule',
      dedup: 'defaultDedupString:Test.Outputs',
      severity: 'Medium',
      alertContext: {},
    });
  });

  it('dedup is the title when there is an AlertTitle and no GroupBy', () => {
    const outputs = rule('AlertTitle: "Agent {userAgent}"\n').outputs({ userAgent: 'Max' });
    expect(outputs.title).toBe('Agent Max');
    expect(outputs.dedup).toBe('Agent Max');
  });

  it('GroupBy values make the dedup key, joined with ":"', () => {
    const outputs = rule('GroupBy:\n  - Key: actionName\n  - KeyPath: user.agent\n').outputs({
      actionName: 'Beans',
      user: { agent: 'Max' },
    });
    expect(outputs.dedup).toBe('Beans:Max');
  });

  it('AlertContext carries each named value, null when missing', () => {
    const outputs = rule(
      'AlertContext:\n  - { KeyName: foo, KeyValue: { Key: actionName } }\n  - { KeyName: gone, KeyValue: { KeyPath: a.b } }\n',
    ).outputs({
      actionName: ['x'],
    });
    expect(outputs.alertContext).toEqual({ foo: ['x'], gone: null });
  });

  it('the first matching DynamicSeverities entry wins', () => {
    const compiled = rule(`DynamicSeverities:
  - ChangeTo: Critical
    Conditions: [{ Key: level, Condition: Equals, Value: 3 }]
  - ChangeTo: High
    Conditions: [{ Key: level, Condition: IsGreaterThanOrEquals, Value: 2 }]
`);
    expect(compiled.outputs({ level: 3 }).severity).toBe('Critical');
    expect(compiled.outputs({ level: 2 }).severity).toBe('High');
    expect(compiled.outputs({ level: 1 }).severity).toBe('Medium');
  });

  it('cuts titles and dedup keys at 1000 characters', () => {
    const outputs = rule('AlertTitle: "{long}"\n').outputs({ long: 'x'.repeat(5000) });
    expect(outputs.title).toHaveLength(MAX_TITLE_LENGTH);
    expect(outputs.dedup).toHaveLength(MAX_DEDUP_LENGTH);
  });

  it('evaluate applies InlineFilters before the detection', () => {
    const compiled = rule('InlineFilters:\n  - { Key: env, Condition: Equals, Value: prod }\n');
    expect(compiled.evaluate({ env: 'prod' })).not.toBeNull();
    expect(compiled.evaluate({ env: 'dev' })).toBeNull();
    expect(compiled.evaluate({})).not.toBeNull();
  });
});
