import { describe, expect, it } from 'vitest';
import { compileRule } from './compile.js';
import {
  compileTemplate,
  MAX_ALERT_CONTEXT_CHARS,
  MAX_ALERT_CONTEXT_FIELDS,
  MAX_DEDUP_LENGTH,
  MAX_GROUP_BY_KEYS,
  MAX_TEMPLATE_PLACEHOLDERS,
  MAX_TITLE_LENGTH,
  TemplateSyntaxError,
} from './outputs.js';
import { loadRuleSource } from './panther/rule-file.js';

/** An event whose every key reads as `value` and counts the reads: shows what rendering looked at. */
function countingEvent(value: unknown): { event: Record<string, unknown>; reads: () => number } {
  let reads = 0;
  const event = new Proxy(
    {},
    {
      get: () => {
        reads += 1;
        return value;
      },
      has: () => true,
      getOwnPropertyDescriptor: () => ({ value, enumerable: true, configurable: true, writable: true }),
    },
  );
  return { event, reads: () => reads };
}

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

  it('stops rendering a title at its limit: values past it are never read', () => {
    const template = Array.from({ length: MAX_TEMPLATE_PLACEHOLDERS }, (_, i) => `{k${i}}`).join(' ');
    const { event, reads } = countingEvent('v'.repeat(300));
    const title = compileTemplate(template)(event);
    expect(title).toHaveLength(MAX_TITLE_LENGTH);
    // 300 characters a value: the fourth fills the title, and nothing after it is read.
    expect(reads()).toBeLessThanOrEqual(4 * 2);
  });

  it('writes only the start of a large container into a title or a dedup key', () => {
    const big = { items: Array.from({ length: 100_000 }, (_, i) => ({ i, name: `item-${i}` })) };
    const outputs = rule('AlertTitle: "{big}"\nGroupBy:\n  - Key: big\n  - Key: big\n').outputs({ big });
    const json = JSON.stringify(big);
    expect(outputs.title).toBe(json.slice(0, MAX_TITLE_LENGTH));
    expect(outputs.dedup).toBe(json.slice(0, MAX_DEDUP_LENGTH));
  });

  it('refuses a title with more placeholders than the limit, naming AlertTitle', () => {
    const placeholders = (n: number) => Array.from({ length: n }, () => '{k}').join('');
    expect(() => compileTemplate(placeholders(MAX_TEMPLATE_PLACEHOLDERS))).not.toThrow();
    expect(() => compileTemplate(placeholders(MAX_TEMPLATE_PLACEHOLDERS + 1))).toThrow(
      /at most 100 placeholders/,
    );
    const { diagnostics } = loadRuleSource(`AnalysisType: rule
RuleID: Test.Placeholders
LogTypes: [Custom.Log]
Severity: Low
Detection: [{ Condition: AlwaysTrue }]
AlertTitle: "${placeholders(100_000)}"
`);
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', key: 'AlertTitle', code: 'too_many', line: 6 }),
    ]);
  });

  it('refuses more AlertContext fields or GroupBy keys than the limits, naming the key', () => {
    const fields = Array.from(
      { length: MAX_ALERT_CONTEXT_FIELDS + 1 },
      (_, i) => `  - { KeyName: f${i}, KeyValue: { Key: k } }`,
    ).join('\n');
    const keys = Array.from({ length: MAX_GROUP_BY_KEYS + 1 }, () => '  - Key: k').join('\n');
    const { diagnostics } = loadRuleSource(`AnalysisType: rule
RuleID: Test.TooMany
LogTypes: [Custom.Log]
Severity: Low
Detection: [{ Condition: AlwaysTrue }]
AlertContext:
${fields}
GroupBy:
${keys}
`);
    expect(diagnostics.map((d) => [d.key, d.code])).toEqual([
      ['AlertContext', 'too_many'],
      ['GroupBy', 'too_many'],
    ]);
  });

  it("keeps a hit's output fields within their budget: what does not fit is the start of its JSON", () => {
    const large = { policy: 'p'.repeat(MAX_ALERT_CONTEXT_CHARS) };
    const outputs = rule(`AlertContext:
  - { KeyName: small, KeyValue: { Key: name } }
  - { KeyName: large, KeyValue: { Key: doc } }
  - { KeyName: text, KeyValue: { Key: text } }
  - { KeyName: after, KeyValue: { Key: name } }
`).outputs({ name: 'ann', doc: large, text: 't'.repeat(MAX_ALERT_CONTEXT_CHARS * 4) });
    const context = outputs.alertContext;
    expect(context.small).toBe('ann');
    expect(context.large).toBe(JSON.stringify(large).slice(0, MAX_ALERT_CONTEXT_CHARS - 5));
    expect(context.text).toBe('');
    expect(context.after).toBe('');
    expect(JSON.stringify(context).length).toBeLessThan(MAX_ALERT_CONTEXT_CHARS + 100);
    // Values that fit are the event's own.
    const doc = { a: [1, 2] };
    expect(
      rule('AlertContext:\n  - { KeyName: d, KeyValue: { Key: doc } }\n').outputs({ doc }).alertContext.d,
    ).toBe(doc);
  });

  it('evaluate applies InlineFilters before the detection', () => {
    const compiled = rule('InlineFilters:\n  - { Key: env, Condition: Equals, Value: prod }\n');
    expect(compiled.evaluate({ env: 'prod' })).not.toBeNull();
    expect(compiled.evaluate({ env: 'dev' })).toBeNull();
    expect(compiled.evaluate({})).not.toBeNull();
  });
});
