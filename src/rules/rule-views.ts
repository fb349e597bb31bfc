// The shapes the rules API answers with, built from stored rows and engine results.
import type { Diagnostic } from '../engine/diagnostics.js';
import type { RuleDefinition } from '../engine/rule.js';
import { describeFailure, type RuleTestResult } from '../engine/test-runner.js';
import type { LibraryVersions, RuleEntity, RuleOrigin, RuleVersionEntity } from '../storage/entities.js';

export interface RuleSummaryView {
  ruleId: string;
  version: number;
  enabled: boolean;
  displayName: string | null;
  description: string | null;
  severity: string;
  logTypes: string[];
  tags: string[];
  reports: Record<string, string[]>;
  analysisType: string;
  detectionLanguage: string;
  /** Whether ingest evaluates it now; when not, `notRunning` says why. */
  running: boolean;
  notRunning?: string;
  origin: RuleOrigin;
  tests: { passed: number; failed: number };
  /** Errors raised while evaluating the rule on events (the events still went to the other rules). */
  errors: { count: number; last: string | null; lastAt: string | null };
  createdAt: string;
  updatedAt: string;
}

export interface RuleDetailView extends RuleSummaryView {
  source: string;
  sourceFormat: string;
  /** The rule as the engine understood it. */
  definition: unknown;
}

export interface RuleVersionView {
  ruleId: string;
  version: number;
  current: boolean;
  origin: RuleOrigin;
  createdByKey: string | null;
  createdAt: string;
  severity: string;
  displayName: string | null;
  contentHash: string;
  tests: { passed: number; failed: number };
  /** A Python rule's: the version of each global helper and data model its tests ran with. */
  testedWith?: LibraryVersions;
  source?: string;
}

export interface TestResultView {
  name: string;
  passed: boolean;
  failures: string[];
  error?: string;
}

export interface DiagnosticView {
  code: string;
  message: string;
  /** The file of a tree (an archive or multipart upload) it is in. */
  file?: string;
  key?: string;
  line?: number;
  column?: number;
}

/** Why a stored rule does not run on events, or undefined when it does. */
function notRunning(rule: RuleEntity, analysisType: string): string | undefined {
  if (analysisType === 'scheduled_rule') return SCHEDULED_RULES_NOT_RUN;
  return rule.enabled ? undefined : 'disabled';
}

/** What a scheduled rule's view says until scheduled queries exist. */
export const SCHEDULED_RULES_NOT_RUN =
  'a scheduled rule runs on the rows of a scheduled query, and scheduled queries are not run yet';

export function summaryView(rule: RuleEntity, version: RuleVersionEntity): RuleSummaryView {
  const metadata = version.metadata;
  const reason = notRunning(rule, metadata.analysisType);
  return {
    ruleId: rule.ruleId,
    version: rule.currentVersion,
    enabled: rule.enabled,
    displayName: metadata.displayName,
    description: metadata.description,
    severity: metadata.severity,
    logTypes: metadata.logTypes,
    tags: metadata.tags,
    reports: metadata.reports,
    analysisType: metadata.analysisType,
    detectionLanguage: metadata.detectionLanguage,
    running: reason === undefined,
    ...(reason === undefined ? {} : { notRunning: reason }),
    origin: version.origin,
    tests: { passed: version.testsPassed, failed: version.testsFailed },
    errors: { count: rule.errorCount, last: rule.lastError, lastAt: rule.lastErrorAt?.toISOString() ?? null },
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
  };
}

/** The parsed definition without engine internals (compiled key paths, source positions). */
export function definitionView(definition: RuleDefinition): unknown {
  return JSON.parse(
    JSON.stringify(definition, (key: string, value: unknown) =>
      key === 'segments' || key === 'positions' || key === 'source' ? undefined : value,
    ),
  ) as unknown;
}

export function detailView(
  rule: RuleEntity,
  version: RuleVersionEntity,
  definition: RuleDefinition,
): RuleDetailView {
  return {
    ...summaryView(rule, version),
    source: version.sourceText,
    sourceFormat: version.sourceFormat,
    definition: definitionView(definition),
  };
}

export function versionView(
  version: RuleVersionEntity,
  currentVersion: number | undefined,
  withSource: boolean,
): RuleVersionView {
  return {
    ruleId: version.ruleId,
    version: version.version,
    current: version.version === currentVersion,
    origin: version.origin,
    createdByKey: version.createdByKey,
    createdAt: version.createdAt.toISOString(),
    severity: version.metadata.severity,
    displayName: version.metadata.displayName,
    contentHash: version.contentHash,
    tests: { passed: version.testsPassed, failed: version.testsFailed },
    ...(version.libraryVersions ? { testedWith: version.libraryVersions } : {}),
    ...(withSource ? { source: version.sourceText } : {}),
  };
}

export function testResultView(result: RuleTestResult): TestResultView {
  return {
    name: result.name,
    passed: result.passed,
    failures: result.failures.map(describeFailure),
    ...(result.error !== undefined ? { error: result.error } : {}),
  };
}

export function diagnosticView(diagnostic: Diagnostic): DiagnosticView {
  return {
    code: diagnostic.code,
    message: diagnostic.message,
    ...(diagnostic.file !== undefined ? { file: diagnostic.file } : {}),
    ...(diagnostic.key !== undefined ? { key: diagnostic.key } : {}),
    ...(diagnostic.line !== undefined ? { line: diagnostic.line } : {}),
    ...(diagnostic.column !== undefined ? { column: diagnostic.column } : {}),
  };
}
