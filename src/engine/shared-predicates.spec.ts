import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { forOneEvent, sharedPredicate } from './shared-predicates.js';
import { RuleSet } from './rule-set.js';
import { loadRuleSource } from './panther/rule-file.js';

describe('shared predicates', () => {
  it('run once per event for every rule that writes the same test, and each time on anything else', () => {
    let runs = 0;
    const build = () => (event: unknown) => {
      runs += 1;
      return (event as { n: number }).n > 1;
    };
    const first = sharedPredicate('spec\u0000n > 1', build);
    const second = sharedPredicate('spec\u0000n > 1', build);
    expect(second).toBe(first);
    const event = { n: 2 };
    const element = { n: 0 };
    forOneEvent(event, () => {
      expect([first(event), second(event), first(event)]).toEqual([true, true, true]);
      // Another value in the same evaluation (a list element): computed, never taken from the event's.
      expect([first(element), first(element)]).toEqual([false, false]);
    });
    expect(runs).toBe(3);
    // Outside an evaluation nothing is kept: a changed event gives its new answer.
    event.n = 0;
    expect(first(event)).toBe(false);
    expect(runs).toBe(4);
    forOneEvent(event, () => first(event));
    expect(runs).toBe(5);
  });

  it('are let go with the last rule that uses them, so replaced rule sets give their memory back', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    let builds = 0;
    const build = () => {
      builds += 1;
      return () => true;
    };
    // Compared here, so that nothing outside this function (an assertion's record) holds the test.
    const sharedWhileHeld = () => {
      const held = sharedPredicate('spec\u0000weakly held', build);
      return sharedPredicate('spec\u0000weakly held', build) === held;
    };
    expect(sharedWhileHeld()).toBe(true);
    // A weak reference read in this turn keeps its target until the turn ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    sharedPredicate('spec\u0000weakly held', build);
    expect(builds).toBe(2);
  });

  it('leave list comprehensions their own answer per element', () => {
    const { rules } = loadRuleSource(
      [
        'AnalysisType: rule',
        'RuleID: Shared.List',
        'LogTypes: [AWS.CloudTrail]',
        'Severity: Low',
        'Detection:',
        '  - Key: resources',
        '    Condition: AnyElement',
        '    Expressions:',
        '      - Key: type',
        '        Condition: Equals',
        '        Value: AWS::S3::Bucket',
        '  - Key: type',
        '    Condition: Equals',
        '    Value: AWS::S3::Bucket',
      ].join('\n'),
    );
    const set = RuleSet.compile(rules);
    const event = (types: string[]) => ({
      eventVersion: '1.08',
      eventTime: '2025-01-01T00:00:00Z',
      type: 'AWS::S3::Bucket',
      resources: types.map((type) => ({ type })),
    });
    const hits = (types: string[]) => set.evaluate(event(types), 'AWS.CloudTrail').length;
    expect(hits(['AWS::IAM::Role', 'AWS::S3::Bucket'])).toBe(1);
    expect(hits(['AWS::IAM::Role'])).toBe(0);
  });
});
