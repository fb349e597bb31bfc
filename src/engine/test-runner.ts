// Runs a rule's own Tests: each Log is normalised as Panther's test runner does (only when it names its
// p_log_type, and never overwriting what the Log says), then checked against every expectation.
import type { CompiledRule } from './compile.js';
import { askBackend, verdictAt } from './formats/backend-verdicts.js';
import { backendRuleIdOf, runsInProcess } from './formats/rule-format.js';
import { normaliseEvent } from './logtypes/index.js';
import type { RuleOutputs } from './outputs.js';
import type { RuleTest } from './rule.js';
import { jsonEquals, type JsonObject } from './values.js';

export type Expectation =
  'ExpectedResult' | 'ExpectedTitle' | 'ExpectedDedup' | 'ExpectedSeverity' | 'ExpectedAlertContext';

export interface ExpectationFailure {
  expectation: Expectation;
  /** For ExpectedAlertContext: the output field that differs. */
  field?: string;
  expected: unknown;
  actual: unknown;
}

export interface RuleTestResult {
  ruleId: string;
  name: string;
  passed: boolean;
  failures: ExpectationFailure[];
  /** Set when evaluating the test threw (a defect of the engine, reported rather than hidden). */
  error?: string;
  /** The rule's outputs for this log, when the detection matched. */
  outputs?: RuleOutputs;
}

/** Fixed so that p_parse_time and friends are the same on every run of a test. */
const TEST_RECEIVED_AT = new Date(Date.UTC(2024, 0, 1));

/** The event a test's Log stands for: a copy, normalised when it carries p_log_type. */
export function prepareTestEvent(log: JsonObject): JsonObject {
  const event = structuredClone(log);
  const logType = event.p_log_type;
  if (typeof logType === 'string' && logType !== '') {
    normaliseEvent(event, logType, { receivedAt: TEST_RECEIVED_AT, keepExisting: true, rowId: 'test' });
  }
  return event;
}

/**
 * Whether the detection matches, and its outputs when it does. As in Panther's own test runner, the
 * rule's InlineFilters are not applied to test logs; they apply to ingested events.
 */
export function evaluateTestEvent(
  rule: CompiledRule,
  log: JsonObject,
): { matched: boolean; outputs?: RuleOutputs } {
  const event = prepareTestEvent(log);
  if (!rule.detect(event)) return { matched: false };
  return { matched: true, outputs: rule.outputs(event) };
}

export function runRuleTest(rule: CompiledRule, test: RuleTest): RuleTestResult {
  let evaluation: Evaluation;
  try {
    evaluation = evaluateTestEvent(rule, test.log);
  } catch (error) {
    evaluation = { error: error instanceof Error ? error.message : String(error) };
  }
  return judge(rule, test, evaluation);
}

/** Runs a rule's tests in this process; see {@link testRule} for a rule of any format. */
export function runRuleTests(rule: CompiledRule): RuleTestResult[] {
  return rule.definition.tests.map((test) => runRuleTest(rule, test));
}

/**
 * Runs a rule's tests wherever its detection runs: here, or in its backend, which gets every test log
 * in one request. A backend's outputs stand in for the rule's own, as they do on ingest.
 */
export async function testRule(rule: CompiledRule): Promise<RuleTestResult[]> {
  const detection = rule.detection;
  if (runsInProcess(detection)) return runRuleTests(rule);
  const tests = rule.definition.tests;
  if (tests.length === 0) return [];
  const events = tests.map((test) => prepareTestEvent(test.log));
  const backend = detection.backend;
  if (backend.runTest) {
    const runTest = backend.runTest.bind(backend);
    const results: RuleTestResult[] = [];
    for (const [index, test] of tests.entries()) {
      const event = events[index];
      const verdict = await runTest(backendRuleIdOf(rule.ruleId, detection), test, event).catch(
        (error: unknown) => ({
          error: `${backend.name}: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
      if ('error' in verdict || !verdict.matched) {
        results.push(judge(rule, test, verdict));
        continue;
      }
      // As Panther's tool: a test that expects an alert fails when any of the rule's functions failed.
      const failed = Object.values(verdict.functionErrors);
      if (test.expectedResult && failed.length > 0) {
        results.push(judge(rule, test, { error: failed.join('; ') }));
        continue;
      }
      try {
        results.push(
          judge(rule, test, { matched: true, outputs: { ...rule.outputs(event), ...verdict.outputs } }),
        );
      } catch (error) {
        results.push(judge(rule, test, { error: error instanceof Error ? error.message : String(error) }));
      }
    }
    return results;
  }
  const answer = await askBackend(
    backend,
    events.map((event) => ({ event, ruleIds: [backendRuleIdOf(rule.ruleId, detection)] })),
  );
  return tests.map((test, index) => {
    const verdict = verdictAt(backend, answer, index, 0);
    if ('error' in verdict || !verdict.matched) return judge(rule, test, verdict);
    try {
      return judge(rule, test, {
        matched: true,
        outputs: { ...rule.outputs(events[index]), ...verdict.outputs },
      });
    } catch (error) {
      return judge(rule, test, { error: error instanceof Error ? error.message : String(error) });
    }
  });
}

type Evaluation = { matched: boolean; outputs?: RuleOutputs } | { error: string };

/** A test's result from what the rule did with its log. */
function judge(rule: CompiledRule, test: RuleTest, evaluation: Evaluation): RuleTestResult {
  const base = { ruleId: rule.ruleId, name: test.name };
  if ('error' in evaluation) return { ...base, passed: false, failures: [], error: evaluation.error };
  const failures: ExpectationFailure[] = [];
  if (evaluation.matched !== test.expectedResult) {
    failures.push({
      expectation: 'ExpectedResult',
      expected: test.expectedResult,
      actual: evaluation.matched,
    });
  }
  const outputs = evaluation.outputs;
  if (outputs && test.expectedResult) {
    const check = (expectation: Expectation, expected: unknown, actual: unknown) => {
      if (expected !== undefined && expected !== actual) failures.push({ expectation, expected, actual });
    };
    check('ExpectedTitle', test.expectedTitle, outputs.title);
    check('ExpectedDedup', test.expectedDedup, outputs.dedup);
    check('ExpectedSeverity', test.expectedSeverity, outputs.severity);
    for (const [field, expected] of Object.entries(test.expectedAlertContext ?? {})) {
      const actual = Object.prototype.hasOwnProperty.call(outputs.alertContext, field)
        ? outputs.alertContext[field]
        : undefined;
      if (!jsonEquals(expected, actual))
        failures.push({ expectation: 'ExpectedAlertContext', field, expected, actual });
    }
  }
  return { ...base, passed: failures.length === 0, failures, ...(outputs ? { outputs } : {}) };
}

function show(value: unknown): string {
  return value === undefined ? '(missing)' : JSON.stringify(value);
}

/** One line per failed expectation: what was expected and what came out. */
export function describeFailure(failure: ExpectationFailure): string {
  const what = failure.field !== undefined ? `${failure.expectation}.${failure.field}` : failure.expectation;
  return `${what}: expected ${show(failure.expected)}, got ${show(failure.actual)}`;
}
