// The rules API's own refusals, as domain errors (mapped to HTTP by ProblemFilter).
import type { Diagnostic } from '../engine/diagnostics.js';
import { UnprocessableError } from '../common/errors.js';
import type { RuleTestResult } from '../engine/test-runner.js';
import { diagnosticView, testResultView } from './rule-views.js';

export class InvalidRuleError extends UnprocessableError {
  constructor(errors: readonly Diagnostic[], warnings: readonly Diagnostic[] = [], what = 'rule') {
    const first = errors[0];
    const place = [
      ...(first?.file !== undefined ? [first.file] : []),
      ...(first?.line !== undefined ? [`line ${first.line}`] : []),
      ...(first?.line !== undefined && first.column !== undefined ? [`column ${first.column}`] : []),
    ];
    const where = place.length > 0 ? ` (${place.join(', ')})` : '';
    super(
      'invalid_rule',
      `${errors.length === 1 ? `the ${what} has an error` : `the ${what} has ${errors.length} errors`}: ${first?.message ?? 'invalid'}${where}`,
      { errors: errors.map(diagnosticView), warnings: warnings.map(diagnosticView) },
    );
  }
}

export class RuleTestsFailedError extends UnprocessableError {
  constructor(ruleId: string, tests: readonly RuleTestResult[]) {
    const failed = tests.filter((test) => !test.passed);
    super(
      'rule_tests_failed',
      `${failed.length} of ${tests.length} tests of ${ruleId} failed: ${failed.map((test) => JSON.stringify(test.name)).join(', ')}; fix them, or pass storeDisabled=true to store the rule disabled`,
      { failedTests: failed.map(testResultView), tests: tests.map(testResultView) },
    );
  }
}
