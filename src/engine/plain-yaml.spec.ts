import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineCounter, parseAllDocuments } from 'yaml';
import { loadRuleSource } from './panther/rule-file.js';
import { readPlainYaml, RULE_YAML_OPTIONS } from './plain-yaml.js';

/** What `yaml` makes of a source: its one document's value and first line, or why it is not comparable. */
function readWithYaml(text: string): { value: unknown; line: number; end: number } | string {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { ...RULE_YAML_OPTIONS, lineCounter });
  if (!Array.isArray(documents) || documents.length !== 1) return 'not one document';
  const [document] = documents;
  if (!document) return 'not one document';
  if (document.errors.length > 0) return `errors: ${document.errors.map((error) => error.code).join(', ')}`;
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  const line = lineCounter.linePos(document.contents?.range[0] ?? document.range[0]).line;
  return { value, line, end: document.range[2] };
}

/** Same values, same own keys in the same order, same prototypes (deep equality ignores key order). */
function sameValue(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object')
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
  const keysA = Reflect.ownKeys(a).map(String);
  const keysB = Reflect.ownKeys(b).map(String);
  if (keysA.join('\n') !== keysB.join('\n'))
    return `${path}: keys [${keysA.join(',')}] vs [${keysB.join(',')}]`;
  for (const key of keysA) {
    const found = sameValue(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (found) return found;
  }
  return undefined;
}

/** Undefined when the fast reader leaves the source to `yaml` or reads exactly what `yaml` reads. */
function disagreement(text: string): string | undefined {
  const plain = readPlainYaml(text);
  if (!plain) return undefined;
  const expected = readWithYaml(text);
  if (typeof expected === 'string') return `the fast reader read a source yaml gives ${expected}`;
  return (
    sameValue(plain.value, expected.value) ??
    (plain.line === expected.line ? undefined : `line ${plain.line} vs ${expected.line}`) ??
    (expected.end === text.length ? undefined : `yaml's document ends at ${expected.end} of ${text.length}`)
  );
}

const RULE = readFileSync(
  join(import.meta.dirname, '..', '..', 'rules', 'aws_cloudtrail_vpce_external_principal.yml'),
  'utf8',
);

const CONDITION_RULE = `# A rule in condition lines
AnalysisType: rule
RuleID: Test.Conditions
LogTypes: [AWS.CloudTrail]
Severity: medium
Condition:
  - 'eventSource eq "s3.amazonaws.com"'
  - eventName in ["PutBucketPolicy", "DeleteBucketPolicy"]
Description: >
  Folded text
  over two lines.
Runbook: |
  Literal text.
Tests:
  - Name: "matches"
    ExpectedResult: true
    Log: {"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","n":1.50,"nested":{"a":[1,2]}}
`;

describe('readPlainYaml', () => {
  it('reads plain sources into the value, key order and first line that yaml gives', () => {
    const sources = [
      RULE,
      CONDITION_RULE,
      'a: 1\n',
      '# leading comment\n\n  a: b\n  c: d # trailing\n',
      'nulls: [~, null, Null, NULL, ""]\nempty:\nlast: 1\n',
      'bools: [true, True, TRUE, false, False, FALSE, yes, no, on, off]\nlast: 1',
      'ints: [0, -12, +7, 0o17, 0x1F, 0x1f, 00, 0b1, 1_000, 012]\n',
      'floats: [1.0, 1.50, .5, -1.5e3, 1e2, .inf, -.Inf, +.INF, .nan, .NaN, 1.]\n',
      "strings: [\"a\\tb\\u00e9\\x41\\/\", 'it''s', \"true\", '1', a b, a:b, http://x/y?z#f]\n",
      'plain: a\n  continued\n  on lines\nnext: 1\n',
      'quoted: "a\n  b\n\n  c"\nsingle: \'x\n\n  y\'\n',
      'folded: >-\n  a\n  b\n\n   more\n  c\nliteral: |+\n  a\n\n\nkept: 1\n',
      '{"json": {"keys": [1, "2", 3.5, true, null]}, "b": "c"}',
      'flow: {a: 1, b: [x, y], "c":d}\nseq:\n- a\n- - b\n  - c\n- k: v\n  l: w\n',
      '1: one\nnull: nothing\ntrue: yes\n1.50: float\n',
      '__proto__: kept\ntoString: own\nconstructor: [1]\n',
      '<<: {a: 1}\n',
      'Tests:\n  # a comment above a list\n  - a\n',
      'k: v\n#',
    ];
    for (const text of sources) {
      expect(readPlainYaml(text), text).toBeDefined();
      expect(disagreement(text), text).toBeUndefined();
    }
  });

  it('makes keys own properties as yaml does, __proto__ included', () => {
    const value = readPlainYaml('__proto__: {polluted: true}\n')?.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves to yaml what it does not reproduce, or what yaml refuses', () => {
    const sources = [
      '',
      '# only a comment\n',
      'a scalar\n',
      '- a sequence\n',
      '---\na: 1\n',
      'a: 1\n...\n',
      'a: 1\n---\nb: 2\n',
      '%YAML 1.1\n---\na: yes\n',
      'a: !!str 1\n',
      'a: !custom x\n',
      'a: &anchor 1\nb: *anchor\n',
      'a:\tb\n',
      'a: 1\r\nb: 2\r\n',
      '\uFEFFa: 1\n',
      'a: 1\na: 2\n',
      '1: a\n"1": b\n',
      '[a, b]: c\n',
      '{a: 1}: c\n',
      's: [a: b]\n',
      `${'k'.repeat(1100)}: v\n`,
      'a: |2\n    \n',
      'a: |1\n  b\n',
      'a: >\n\n',
      'a: "b\\\n\n  c"\n',
      'a: {b: 1 # comment\n  , c: 2}\n',
      'a:\n#comment\n b\nc: 1\n',
      'a: 1\nb:\n',
      'a: [b\n',
      'a: b: c\n',
      'a: "unclosed\n',
    ];
    for (const text of sources) expect(readPlainYaml(text), JSON.stringify(text)).toBeUndefined();
  });

  it('never reads a source differently from yaml (seeded mutations of rule files)', () => {
    let seed = 20261207;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % below;
    };
    const pieces = [
      ':',
      ': ',
      ' ',
      '-',
      '- ',
      '\n',
      '\n  ',
      '"',
      "'",
      '#',
      ' #',
      '[',
      ']',
      '{',
      '}',
      ',',
      '?',
      '|',
      '>',
      '\\',
      '~',
      'null',
      'true',
      '0x1F',
      '1e3',
      '.5',
      '__proto__',
      '<<',
      '&a',
      '*a',
      '!t',
      '"\\u0041"',
    ];
    const mutate = (text: string) => {
      let mutated = text;
      for (let step = 1 + random(3); step > 0; step--) {
        const at = random(mutated.length + 1);
        if (random(2) === 0) mutated = mutated.slice(0, at) + mutated.slice(at + 1 + random(3));
        else mutated = mutated.slice(0, at) + (pieces[random(pieces.length)] as string) + mutated.slice(at);
      }
      return mutated;
    };
    let read = 0;
    for (let round = 0; round < 600; round++) {
      const text = mutate(round % 2 === 0 ? RULE : CONDITION_RULE);
      if (readPlainYaml(text)) read++;
      expect(disagreement(text), JSON.stringify(text)).toBeUndefined();
    }
    // The mutations must leave enough sources readable for the comparison to mean something.
    expect(read).toBeGreaterThan(120);
  });
});

describe('loadRuleSource with the fast reader', () => {
  it('loads a plain rule file into the same definition as yaml alone does', () => {
    for (const text of [RULE, CONDITION_RULE]) {
      // A tab in a trailing comment keeps the fast reader out and changes nothing else but the text.
      const throughYaml = loadRuleSource(`${text}#\t\n`, { file: 'rule.yml' });
      const fast = loadRuleSource(text, { file: 'rule.yml' });
      expect(readPlainYaml(text)).toBeDefined();
      expect(fast.diagnostics).toEqual(throughYaml.diagnostics);
      expect(fast.rules).toHaveLength(1);
      const [rule] = fast.rules;
      expect(rule?.source.text).toBe(text);
      expect({ ...rule, source: { ...rule?.source, text: '' } }).toEqual({
        ...throughYaml.rules[0],
        source: { ...throughYaml.rules[0]?.source, text: '' },
      });
    }
  });

  it('reads a plain file with a problem again with yaml, so the problem has its line and column', () => {
    const text = CONDITION_RULE.replace('Severity: medium', 'Severity: medium\nSevrity: High');
    expect(readPlainYaml(text)).toBeDefined();
    const { rules, diagnostics } = loadRuleSource(text, { file: 'rule.yml' });
    expect(rules).toEqual([]);
    expect(diagnostics).toMatchObject([
      { severity: 'error', code: 'unknown_key', key: 'Sevrity', file: 'rule.yml', line: 6, column: 1 },
    ]);
  });

  it('still positions a warning of a rule that loads', () => {
    const text = CONDITION_RULE.replace('Severity: medium', 'Severity: medium\nExtra: 1');
    const { rules, diagnostics } = loadRuleSource(text, { file: 'rule.yml', ignoreExtraKeys: true });
    expect(rules).toHaveLength(1);
    expect(diagnostics).toMatchObject([{ severity: 'warning', code: 'unknown_key', line: 6, column: 1 }]);
  });
});
