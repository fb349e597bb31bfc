// One uploaded rule source, checked by the engine: parsed, compiled and its own tests run. Nothing here
// touches the database or HTTP.
import { createHash } from 'node:crypto';
import { compileRule, type CompiledRule } from '../engine/compile.js';
import type { Diagnostic } from '../engine/diagnostics.js';
import type { CompileContext } from '../engine/formats/rule-format.js';
import { readRuleSource, readStoredRule } from '../engine/formats/registry.js';
import type { RuleDefinition } from '../engine/rule.js';
import { testRule, type RuleTestResult } from '../engine/test-runner.js';
import type { LibraryVersions, RuleVersionMetadata } from '../storage/entities.js';

export type SourceFormat = 'yaml' | 'json';

/** A rule parsed from a source: plain data, which a worker thread can hand over. */
export interface ParsedRule {
  definition: RuleDefinition;
  sourceText: string;
  contentHash: string;
}

/** A rule read from a source and compiled, its own tests not run yet. */
export interface ReadRule extends ParsedRule {
  compiled: CompiledRule;
}

/** A rule read, compiled and tested. */
export interface CheckedRule extends ReadRule {
  tests: RuleTestResult[];
  /** For a Python rule, the helpers and data models its tests ran with. */
  libraryVersions?: LibraryVersions;
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

export interface SourceOptions {
  ignoreExtraKeys: boolean;
  file?: string;
  format?: SourceFormat;
  maxDocuments?: number;
  /** A stored version's rule format: its source is read with that format's reader. */
  ruleFormat?: string;
  /** Where rules that run in a backend are compiled (PythonChecks: never in ingest's workers). */
  context?: CompileContext;
}

/**
 * Parses every rule of a source. Errors name key, line and column. What is stored for a rule is the
 * whole source when it holds one rule, else that rule's document; it must load on its own into the same
 * rule, or it is refused.
 */
export function parseRuleSources(
  text: string,
  options: SourceOptions,
): { rules: ParsedRule[]; problems: SourceProblems } {
  const loaded = readRuleSource(text, options, options.ruleFormat);
  const errors = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  const warnings = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning');
  const rules: ParsedRule[] = [];
  for (const definition of loaded.rules) {
    const whole = loaded.rules.length === 1;
    const sourceText = whole ? text : definition.source.text;
    // The whole source was just loaded; only a document cut out of a stream needs loading again.
    const alone = whole ? definition : readStoredRule(definition.detection.language, sourceText);
    if (!alone || alone.ruleId !== definition.ruleId) {
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
    rules.push({ definition, sourceText, contentHash: contentHash(sourceText) });
  }
  return { rules, problems: { errors, warnings } };
}

/** Every rule of a source parsed (parseRuleSources) and compiled; its tests are not run. */
export function readRuleSources(
  text: string,
  options: SourceOptions,
): { rules: ReadRule[]; problems: SourceProblems } {
  const { rules, problems } = parseRuleSources(text, options);
  return { rules: rules.map((rule) => compileParsedRule(rule, options.context)), problems };
}

export function compileParsedRule(rule: ParsedRule, context?: CompileContext): ReadRule {
  return { ...rule, compiled: compileRule(rule.definition, context) };
}

/** Every rule of a source read (readRuleSources), compiled and its own tests run. */
export async function checkRuleSources(
  text: string,
  options: SourceOptions,
): Promise<{ rules: CheckedRule[]; problems: SourceProblems }> {
  const { rules, problems } = readRuleSources(text, options);
  const checked: CheckedRule[] = [];
  for (const rule of rules) checked.push(await testReadRule(rule));
  return { rules: checked, problems };
}

export async function testReadRule(rule: ReadRule): Promise<CheckedRule> {
  return { ...rule, tests: await testRule(rule.compiled) };
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
    detectionLanguage: formatOf(definition),
    dedupPeriodMinutes: definition.dedupPeriodMinutes,
    threshold: definition.threshold,
    createAlert: definition.createAlert,
    enabledInSource: definition.enabled,
  };
}

/** The rule format a definition is stored under: its detection's language. */
export function formatOf(definition: RuleDefinition): string {
  return definition.detection.language;
}
