// The parsed, checked form of one rule file: what the loader produces and the compiler consumes.
import type { ConditionNode } from './condition/ast.js';
import type { PathSegment } from './paths.js';
import type { JsonObject } from './values.js';

export const SEVERITIES = ['Info', 'Low', 'Medium', 'High', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Where an event value comes from: Panther's `Key`, `DeepKey` or `KeyPath`. */
export interface KeySpecifier {
  kind: 'Key' | 'DeepKey' | 'KeyPath';
  /** As written, for messages: `userIdentity.accountId`. */
  text: string;
  segments: PathSegment[];
}

export type ScalarValue = string | number | boolean;

/** Panther's simple-detection grammar, checked and typed. */
export type MatchExpression =
  | { type: 'All' | 'Any' | 'OnlyOne' | 'None'; expressions: MatchExpression[] }
  | { type: 'Absolute'; value: boolean }
  | { type: 'KeyValue'; key: KeySpecifier; condition: string; value?: ScalarValue }
  | { type: 'KeyValues'; key: KeySpecifier; condition: string; values: ScalarValue[] }
  | {
      type: 'Enrichment';
      table: string;
      selector: string;
      fieldPath: string;
      condition: string;
      value?: ScalarValue;
      values?: ScalarValue[];
    }
  | { type: 'MultiKey'; keys: [KeySpecifier, KeySpecifier]; condition: string }
  | { type: 'ListComprehension'; key: KeySpecifier; condition: string; expressions: MatchExpression[] };

/**
 * A rule's detection as its format wrote it: `language` names the format (see formats/registry.ts),
 * which alone reads the rest.
 */
export interface Detection {
  readonly language: string;
}

/** Panther's simple detection: a list of match expressions, all of which must hold. */
export interface MatchExpressionDetection extends Detection {
  readonly language: 'panther';
  readonly expressions: MatchExpression[];
}

/** Condition lines (the catalogue condition language), all of which must hold, parsed once on reading. */
export interface ConditionLinesDetection extends Detection {
  readonly language: 'condition';
  readonly lines: string[];
  readonly nodes: ConditionNode[];
}

export interface AlertContextField {
  keyName: string;
  key: KeySpecifier;
}

export interface DynamicSeverity {
  changeTo: Severity;
  conditions: MatchExpression[];
}

/** A name in a Python rule's module replaced, for one test, by a function returning `returnValue`. */
export interface RuleTestMock {
  objectName: string;
  returnValue: unknown;
}

export interface RuleTest {
  name: string;
  expectedResult: boolean;
  log: JsonObject;
  expectedTitle?: string;
  expectedDedup?: string;
  expectedSeverity?: Severity;
  expectedAlertContext?: JsonObject;
  /** Python rules only: names of the rule's module replaced for this test. */
  mocks?: RuleTestMock[];
  /** The log type the test's event is of, when its Log does not say (`p_log_type`). */
  logType?: string;
}

export interface RuleDefinition {
  analysisType: 'rule' | 'scheduled_rule';
  ruleId: string;
  displayName?: string;
  enabled: boolean;
  logTypes: string[];
  scheduledQueries: string[];
  tags: string[];
  /** e.g. `{ 'MITRE ATT&CK': ['TA0005:T1599'] }` */
  reports: Record<string, string[]>;
  severity: Severity;
  description?: string;
  runbook?: string;
  reference?: string;
  dedupPeriodMinutes: number;
  threshold: number;
  createAlert: boolean;
  summaryAttributes: string[];
  detection: Detection;
  inlineFilters: MatchExpression[];
  alertTitle?: string;
  alertContext: AlertContextField[];
  groupBy: KeySpecifier[];
  dynamicSeverities: DynamicSeverity[];
  tests: RuleTest[];
  /** Where the rule came from, and its text as written (one document of a stream). */
  source: { file?: string; line: number; text: string };
}
