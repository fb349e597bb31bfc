import { compileRule } from '../engine/compile.js';
import { loadRulePaths } from '../engine/pack.js';
import { describeFailure, testRule, type RuleTestResult } from '../engine/test-runner.js';
import { sharedPythonRuntime } from '../engine/python/python-runtime.js';
import type { CommandOptions } from './command-options.js';
import { DEFAULT_RULE_PATHS, printDiagnostics } from './output.js';

/** `tripline test`: a PASS/FAIL line per test, then `N passed, M failed`. */
export async function testCommand(paths: string[], options: CommandOptions): Promise<number> {
  const loaded = await loadRulePaths(paths.length > 0 ? paths : DEFAULT_RULE_PATHS, {
    ignoreExtraKeys: options['ignore-extra-keys'],
  });
  const invalid = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  const results: RuleTestResult[] = [];
  const python = sharedPythonRuntime();
  python.setLibrary(loaded.library);
  try {
    const compiled = loaded.rules.map((definition) => compileRule(definition));
    for (const rule of compiled) results.push(...(await testRule(rule)));
  } finally {
    python.close();
  }
  const passed = results.filter((result) => result.passed).length;
  const failed = results.length - passed;

  if (options.json) {
    const report = { passed, failed, invalidRules: invalid.length, results, diagnostics: loaded.diagnostics };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    printDiagnostics(loaded.diagnostics);
    for (const result of results) {
      const label = `${result.ruleId} › ${result.name}`;
      if (result.passed) {
        process.stdout.write(`PASS ${label}\n`);
        continue;
      }
      const reasons =
        result.error !== undefined ? [`error: ${result.error}`] : result.failures.map(describeFailure);
      process.stdout.write(`FAIL ${label}\n${reasons.map((reason) => `     ${reason}\n`).join('')}`);
    }
    const rulesWithoutTests = loaded.rules.filter((rule) => rule.tests.length === 0).length;
    process.stdout.write(
      `\n${loaded.rules.length} rules from ${loaded.files.length} files (${rulesWithoutTests} without tests)` +
        `${invalid.length > 0 ? `, ${invalid.length} errors in rule files` : ''}\n`,
    );
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
  }
  return failed === 0 && invalid.length === 0 ? 0 : 1;
}
