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

/** Parses every rule of a source; each rule is compiled and tested. Errors name key, line and column. */
export function checkRuleSources(
  text: string,
  options: { ignoreExtraKeys: boolean; file?: string },
): { rules: CheckedRule[]; problems: SourceProblems } {
  const loaded = loadRuleSource(text, { ignoreExtraKeys: options.ignoreExtraKeys, file: options.file });
  const errors = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  const warnings = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning');
  const rules = loaded.rules.map((definition) => {
    const compiled = compileRule(definition);
    const sourceText = definition.source.text;
    return {
      definition,
      compiled,
      tests: runRuleTests(compiled),
      sourceText,
      contentHash: contentHash(sourceText),
    };
  });
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
