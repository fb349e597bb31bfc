// One uploaded rule source, checked by the engine: parsed, compiled and its own tests run. Nothing here
// touches the database or HTTP.
import { createHash } from 'node:crypto';
import { compileRule, type CompiledRule } from '../engine/compile.js';
import type { Diagnostic } from '../engine/diagnostics.js';
import { loadRuleSource } from '../engine/panther/rule-file.js';
import type { RuleDefinition } from '../engine/rule.js';
import { runRuleTests, type RuleTestResult } from '../engine/test-runner.js';
import type { RuleVersionMetadata } from '../storage/entities.js';

export type SourceFormat = 'yaml' | 'json';

export interface CheckedRule {
  definition: RuleDefinition;
  compiled: CompiledRule;
  tests: RuleTestResult[];
  sourceText: string;
  contentHash: string;
}

export interface SourceProblems {
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function testsPassed(rule: CheckedRule): boolean {
  return rule.tests.every((test) => test.passed);
}

/**
 * Parses every rule of a source; each rule is compiled and tested. Errors name key, line and column.
 * What is stored for a rule is the whole source when it holds one rule, else that rule's document; it
 * must load on its own into the same rule, or it is refused.
 */
export function checkRuleSources(
  text: string,
  options: { ignoreExtraKeys: boolean; file?: string; format?: SourceFormat; maxDocuments?: number },
): { rules: CheckedRule[]; problems: SourceProblems } {
  const loaded = loadRuleSource(text, options);
  const errors = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  const warnings = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning');
  const rules: CheckedRule[] = [];
  for (const definition of loaded.rules) {
    const whole = loaded.rules.length === 1;
    const sourceText = whole ? text : definition.source.text;
    // The whole source was just loaded; only a document cut out of a stream needs loading again.
    const [alone, ...more] = whole
      ? [definition]
      : loadRuleSource(sourceText, { ignoreExtraKeys: true }).rules;
    if (!alone || more.length > 0 || alone.ruleId !== definition.ruleId) {
      errors.push({
        severity: 'error',
        code: 'source_not_self_contained',
        message: `the document of ${definition.ruleId} does not load on its own; send it as a separate rule`,
        key: 'RuleID',
        file: options.file,
        line: definition.source.line,
      });
      continue;
    }
    const compiled = compileRule(definition);
    rules.push({
      definition,
      compiled,
      tests: runRuleTests(compiled),
      sourceText,
      contentHash: contentHash(sourceText),
    });
  }
  return { rules, problems: { errors, warnings } };
}

export function metadataOf(definition: RuleDefinition): RuleVersionMetadata {
  return {
    analysisType: definition.analysisType,
    displayName: definition.displayName ?? null,
    description: definition.description ?? null,
    severity: definition.severity,
    logTypes: definition.logTypes,
    tags: definition.tags,
    reports: definition.reports,
    detectionLanguage: definition.detection.language,
    dedupPeriodMinutes: definition.dedupPeriodMinutes,
    threshold: definition.threshold,
    createAlert: definition.createAlert,
    enabledInSource: definition.enabled,
  };
}
