// The format seam: the registry refuses what it cannot run, and a rule set merges a backend's hits with
// the in-process ones in rule order, whatever the backend answers.
import { afterEach, describe, expect, it } from 'vitest';
import { compileRule } from '../compile.js';
import { loadRuleSource } from '../panther/rule-file.js';
import type { RuleDefinition } from '../rule.js';
import { RuleSet, type RuleErrorReport } from '../rule-set.js';
import {
  readRuleSource,
  readStoredRule,
  registerRuleFormat,
  ruleFormatNames,
  unregisterRuleFormat,
} from './registry.js';
import type { BackendRequest, BackendVerdict, DetectionBackend, RuleFormat } from './rule-format.js';

function conditionRule(ruleId: string, condition = 'kind eq "x"'): RuleDefinition {
  const { rules, diagnostics } = loadRuleSource(
    `AnalysisType: rule\nRuleID: ${ruleId}\nLogTypes: [Test.Log]\nSeverity: Low\nCondition: '${condition}'\n`,
  );
  expect(diagnostics).toEqual([]);
  return rules[0] as RuleDefinition;
}

/** A backend answering from a function, recording what it was asked. */
function fakeBackend(answer: (requests: readonly BackendRequest[]) => unknown): DetectionBackend & {
  asked: BackendRequest[][];
} {
  const asked: BackendRequest[][] = [];
  return {
    name: 'fake backend',
    asked,
    evaluate(requests) {
      asked.push([...requests]);
      return Promise.resolve(answer(requests) as BackendVerdict[][]);
    },
  };
}

function fakeFormat(backend: DetectionBackend): RuleFormat {
  return {
    name: 'fake',
    reader: {
      name: 'fake',
      claims: (text) => text.startsWith('fake:'),
      read: () => ({ rules: [], diagnostics: [] }),
    },
    compile: () => ({ backend, requirements: [], readsNormalisedFields: false, keysIgnoreCase: false }),
  };
}

function backendRule(ruleId: string): RuleDefinition {
  return { ...conditionRule(ruleId), detection: { language: 'fake' } };
}

afterEach(() => {
  if (ruleFormatNames().includes('fake')) unregisterRuleFormat('fake');
});

describe('the rule format registry', () => {
  it('knows the three built-in formats and refuses a second registration or a bad name', () => {
    expect(ruleFormatNames()).toEqual(['panther', 'condition', 'python']);
    const backend = fakeBackend(() => []);
    registerRuleFormat(fakeFormat(backend));
    expect(() => registerRuleFormat(fakeFormat(backend))).toThrow(/already registered/);
    expect(() => registerRuleFormat({ ...fakeFormat(backend), name: 'Bad Name' })).toThrow(/lower-case/);
    expect(() => unregisterRuleFormat('panther')).toThrow(/built in/);
  });

  it('refuses a rule in a format it does not know, and reads stored sources only by their own format', () => {
    const yaml =
      'AnalysisType: rule\nRuleID: A.Rule\nLogTypes: [Test.Log]\nSeverity: Low\nCondition: kind eq "x"\n';
    expect(readStoredRule('condition', yaml)?.ruleId).toBe('A.Rule');
    expect(readStoredRule('panther', yaml)).toBeUndefined();
    expect(readStoredRule('gone', yaml)).toBeUndefined();
    const unknown: RuleFormat = {
      name: 'orphan',
      reader: {
        name: 'orphan',
        claims: (text) => text.startsWith('orphan:'),
        read: () => ({
          rules: [{ ...conditionRule('Orphan.Rule'), detection: { language: 'nowhere' } }],
          diagnostics: [],
        }),
      },
      compile: () => {
        throw new Error('never compiled');
      },
    };
    registerRuleFormat(unknown);
    try {
      const read = readRuleSource('orphan: yes');
      expect(read.rules).toEqual([]);
      expect(read.diagnostics).toMatchObject([{ severity: 'error', code: 'unknown_format' }]);
      expect(read.diagnostics[0]?.message).toContain('nowhere');
    } finally {
      unregisterRuleFormat('orphan');
    }
  });
});

describe('rules evaluated by a backend', () => {
  const event = () => ({ kind: 'x' });

  it('merge their hits with the in-process ones in rule order, a batch per backend', async () => {
    const backend = fakeBackend((requests) =>
      requests.map(({ ruleIds }) =>
        ruleIds.map(() => ({ matched: true, outputs: { title: 'from backend' } })),
      ),
    );
    registerRuleFormat(fakeFormat(backend));
    const set = RuleSet.fromCompiled(
      [
        conditionRule('A.First'),
        backendRule('B.Second'),
        conditionRule('C.Third'),
        backendRule('D.Fourth'),
      ].map((definition) => compileRule(definition)),
    );
    expect(set.hasBackendRules).toBe(true);
    // The synchronous path leaves backend rules alone.
    expect(set.evaluate(event(), 'Test.Log').map((hit) => hit.ruleId)).toEqual(['A.First', 'C.Third']);
    const hits = await set.evaluateEvent(event(), 'Test.Log');
    expect(hits.map((hit) => [hit.ruleId, hit.title])).toEqual([
      ['A.First', 'A.First'],
      ['B.Second', 'from backend'],
      ['C.Third', 'C.Third'],
      ['D.Fourth', 'from backend'],
    ]);
    const work = [set.backendWork(event(), 'Test.Log'), set.backendWork(event(), 'Test.Log')];
    const batch = await set.evaluateInBackends(work.filter((item) => item !== undefined));
    expect(batch.map((hitsOfEvent) => hitsOfEvent.length)).toEqual([2, 2]);
    // Two events, one request each, in one call.
    expect(backend.asked.at(-1)?.map((request) => request.ruleIds)).toEqual([
      ['B.Second', 'D.Fourth'],
      ['B.Second', 'D.Fourth'],
    ]);
  });

  it('cost only their own hits when the backend fails or answers out of shape', async () => {
    const answers: unknown[] = [
      new Error('backend down'),
      'not a list',
      [[{ matched: 'yes' }]],
      [[{ error: 'rule raised KeyError' }]],
      [[]],
    ];
    let next = 0;
    const backend: DetectionBackend = {
      name: 'flaky backend',
      evaluate: () => {
        const answer = answers[next++];
        return answer instanceof Error
          ? Promise.reject(answer)
          : Promise.resolve(answer as BackendVerdict[][]);
      },
    };
    registerRuleFormat(fakeFormat(backend));
    const set = RuleSet.fromCompiled(
      [conditionRule('A.First'), backendRule('B.Second')].map((definition) => compileRule(definition)),
    );
    const messages: string[] = [];
    const onError = ({ ruleId, error }: RuleErrorReport) =>
      messages.push(`${ruleId}: ${error instanceof Error ? error.message : String(error)}`);
    for (let attempt = 0; attempt < answers.length; attempt++) {
      const hits = await set.evaluateEvent(event(), 'Test.Log', onError);
      expect(hits.map((hit) => hit.ruleId)).toEqual(['A.First']);
    }
    expect(messages).toEqual([
      'B.Second: flaky backend: backend down',
      'B.Second: flaky backend: the answer is not a list',
      'B.Second: flaky backend: a verdict without "matched"',
      'B.Second: flaky backend: rule raised KeyError',
      'B.Second: flaky backend: no verdict for this rule',
    ]);
  });

  it('keep only outputs of the right type and size from a backend', async () => {
    const backend = fakeBackend(() => [
      [
        {
          matched: true,
          outputs: { title: 'x'.repeat(5000), severity: 'Apocalyptic', dedup: 42, alertContext: [] },
        },
      ],
    ]);
    registerRuleFormat(fakeFormat(backend));
    const set = RuleSet.fromCompiled([compileRule(backendRule('B.Only'))]);
    const [hit] = await set.evaluateEvent(event(), 'Test.Log');
    expect(hit?.title).toHaveLength(1000);
    expect({ ...hit, title: undefined }).toEqual({
      ruleId: 'B.Only',
      title: undefined,
      severity: 'Low',
      dedup: 'defaultDedupString:B.Only',
      alertContext: {},
    });
  });
});
