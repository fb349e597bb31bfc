// Reads Panther rule files (YAML or JSON, one rule per document) into checked RuleDefinitions.
// Every key of the format is understood and checked here; every problem names the key, the file, the
// line and the column.
import { LineCounter, parseAllDocuments } from 'yaml';
import { ConditionSyntaxError, parseConditionLines, type ConditionNode } from '../condition/index.js';
import type { Diagnostic } from '../diagnostics.js';
import {
  SEVERITIES,
  type AlertContextField,
  type ConditionLinesDetection,
  type Detection,
  type MatchExpressionDetection,
  type DynamicSeverity,
  type KeySpecifier,
  type RuleDefinition,
  type RuleTest,
  type RuleTestMock,
  type Severity,
} from '../rule.js';
import { readPlainYaml, RULE_YAML_OPTIONS } from '../plain-yaml.js';
import { joinPath, SourceMap } from '../source-map.js';
import { isPlainObject, jsonDepth, setOwn, type JsonObject } from '../values.js';
import {
  compileTemplate,
  MAX_ALERT_CONTEXT_FIELDS,
  MAX_GROUP_BY_KEYS,
  TemplateSyntaxError,
} from '../outputs.js';
import type { ReadOptions, ReadResult, RuleSourceReader } from '../formats/rule-format.js';
import { Checker, describeType } from './checker.js';
import { checkKeySpecifier, checkMatchList } from './match-expressions.js';
import { checkDataModel, checkGlobalHelper, checkPythonBody } from './python-documents.js';
import type { DataModelDefinition, GlobalHelperDefinition } from '../python/python-library.js';

export type LoadOptions = ReadOptions;
export type LoadResult = ReadResult;

/** A single rule document larger than this is refused (a rule is text, not data). */
export const MAX_RULE_DOCUMENT_CHARS = 512 * 1024;
/** YAML aliases expand in place; this caps the expansion ("billion laughs"). */
export const MAX_YAML_ALIASES = 100;
export const DEFAULT_DEDUP_PERIOD_MINUTES = 60;
/** Events nest a few levels; a test Log nested deeper than this is refused. */
export const MAX_TEST_LOG_DEPTH = 100;
/**
 * Brackets may open this deep in a source. The YAML parser recurses per level, so a source of a few
 * hundred kB of `[` would exhaust the stack; nothing real comes near (quotes are not told apart here).
 */
export const MAX_SOURCE_BRACKET_DEPTH = 1000;

/** Stands in for the logic of a rule that has none; such a rule is refused with an error anyway. */
const NO_DETECTION: MatchExpressionDetection = { language: 'panther', expressions: [] };

/**
 * Panther's rule files: the reader of both built-in formats (match expressions, condition lines), and
 * of every source no plug-in reader claims.
 */
export const pantherRuleReader: RuleSourceReader = {
  name: 'panther-yaml',
  claims: () => true,
  read: (text, options) => loadRuleSource(text, options),
};

const RULE_KEYS = [
  'AnalysisType',
  'RuleID',
  'DisplayName',
  'Enabled',
  'LogTypes',
  'ScheduledQueries',
  'Tags',
  'Reports',
  'Severity',
  'Description',
  'Runbook',
  'Reference',
  'DedupPeriodMinutes',
  'Threshold',
  'CreateAlert',
  'SummaryAttributes',
  'InlineFilters',
  'AlertTitle',
  'AlertContext',
  'GroupBy',
  'DynamicSeverities',
  'Tests',
  'Detection',
  'Condition',
  'Filename',
  'Body',
  // Panther keys that name things this service has no use for; accepted so that real packs load.
  'OutputIds',
  'CreatedBy',
  'OnlyUseBaseRiskScore',
  'Status',
] as const;

const TEST_KEYS = [
  'Name',
  'ExpectedResult',
  'Log',
  'LogType',
  'Mocks',
  'ExpectedTitle',
  'ExpectedDedup',
  'ExpectedSeverity',
  'ExpectedAlertContext',
] as const;

/** Analysis types a Panther repository holds that Tripline neither runs nor stores. */
const TYPES_NOT_KEPT: ReadonlySet<string> = new Set([
  'pack',
  'policy',
  'saved_query',
  'scheduled_query',
  'lookup_table',
  'correlation_rule',
]);

/** A file that may hold one of those kinds says so in an `AnalysisType` key, in YAML or in JSON. */
const NOT_KEPT_MENTIONED = new RegExp(
  `AnalysisType["']?\\s*:\\s*["']?(?:${[...TYPES_NOT_KEPT].join('|')})\\b`,
);

/**
 * The AnalysisType of a file Tripline leaves out of a repository (every document is one of the kinds
 * above, e.g. a pack), or undefined for a file to read. A file that does not parse is read, so that its
 * error is reported with its line.
 */
export function analysisTypeNotKept(text: string): string | undefined {
  // Most files name none of these kinds: they are not parsed here, only by the reader that follows.
  if (!NOT_KEPT_MENTIONED.test(text)) return undefined;
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [];
  if (list.length === 0 || list.some((document) => document.errors.length > 0)) return undefined;
  const types = list.map((document) => {
    const value: unknown = document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    return isPlainObject(value) ? value.AnalysisType : undefined;
  });
  const [first] = types;
  return types.every((type) => typeof type === 'string' && TYPES_NOT_KEPT.has(type))
    ? (first as string)
    : undefined;
}

/** Parses every document of a YAML or JSON stream; a document with errors yields no rule. */
export function loadRuleSource(text: string, options: LoadOptions = {}): LoadResult {
  if (bracketDepth(text) > MAX_SOURCE_BRACKET_DEPTH) {
    const message = `the source nests brackets deeper than ${MAX_SOURCE_BRACKET_DEPTH} levels`;
    return {
      rules: [],
      diagnostics: [{ severity: 'error', code: 'too_deep', message, file: options.file, line: 1, column: 1 }],
    };
  }
  if (options.format === 'json') {
    // YAML accepts more than JSON (unquoted keys, comments): hold a JSON body to JSON's own grammar.
    const problem = jsonSyntaxError(text, options.file);
    if (problem) return { rules: [], diagnostics: [problem] };
  }
  const plain = readPlainRule(text, options);
  if (plain) return { rules: [plain], diagnostics: [] };
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { ...RULE_YAML_OPTIONS, lineCounter });
  const rules: RuleDefinition[] = [];
  const helpers: GlobalHelperDefinition[] = [];
  const dataModels: DataModelDefinition[] = [];
  const diagnostics: Diagnostic[] = [];
  const docs = Array.isArray(documents) ? documents : [];
  if (options.maxDocuments !== undefined && docs.length > options.maxDocuments) {
    const message = `the source holds ${docs.length} documents; at most ${options.maxDocuments} are taken at once`;
    return {
      rules: [],
      diagnostics: [
        { severity: 'error', code: 'too_many_documents', message, file: options.file, line: 1, column: 1 },
      ],
    };
  }
  // Each rule keeps the text from the end of the previous document to the end of its own: its
  // directives, `---` marker and leading comments included, so that the text alone loads the same rule.
  let previousEnd = 0;
  for (const document of docs) {
    const sourceMap = SourceMap.fromNode(document.contents, lineCounter, options.file);
    const checker = new Checker(sourceMap);
    const end = document.range[2];
    const start = previousEnd;
    previousEnd = end;
    const startLine = lineCounter.linePos(document.contents?.range[0] ?? document.range[0]).line;
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const position = lineCounter.linePos(error.pos[0]);
        checker.report(
          'error',
          '',
          options.format === 'json' ? 'json_syntax' : 'yaml_syntax',
          `invalid ${options.format === 'json' ? 'JSON' : 'YAML'}: ${firstLine(error.message)}`,
          position.col,
          position.line,
        );
      }
      diagnostics.push(...checker.diagnostics);
      continue;
    }
    if (document.contents === null) continue; // an empty document between separators
    if (end - start > MAX_RULE_DOCUMENT_CHARS) {
      checker.report(
        'error',
        '',
        'too_large',
        `a rule document may hold at most ${MAX_RULE_DOCUMENT_CHARS} characters`,
        1,
        startLine,
      );
      diagnostics.push(...checker.diagnostics);
      continue;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (error) {
      checker.report(
        'error',
        '',
        'yaml_aliases',
        `YAML aliases expand too far: ${error instanceof Error ? error.message : String(error)}`,
        1,
        startLine,
      );
      diagnostics.push(...checker.diagnostics);
      continue;
    }
    const documentSource = { file: options.file, line: startLine, text: text.slice(start, end) };
    const analysisType = isPlainObject(value) ? value.AnalysisType : undefined;
    if (analysisType === 'global' || analysisType === 'datamodel') {
      const document = value as JsonObject;
      if (analysisType === 'global') {
        const helper = checkGlobalHelper(document, checker, options, documentSource);
        if (helper && !checker.failed) helpers.push(helper);
      } else {
        const model = checkDataModel(document, checker, options, documentSource);
        if (model && !checker.failed) dataModels.push(model);
      }
      diagnostics.push(...checker.diagnostics);
      continue;
    }
    const rule = checkRule(value, checker, options, documentSource);
    diagnostics.push(...checker.diagnostics);
    if (rule && !checker.failed) rules.push(rule);
  }
  const found = rules.length + helpers.length + dataModels.length;
  if (docs.length === 0 || (found === 0 && diagnostics.length === 0)) {
    diagnostics.push({
      severity: 'error',
      code: 'empty',
      message: 'no rule found: the source is empty',
      file: options.file,
      line: 1,
      column: 1,
    });
  }
  return {
    rules,
    diagnostics,
    ...(helpers.length > 0 ? { helpers } : {}),
    ...(dataModels.length > 0 ? { dataModels } : {}),
  };
}

/**
 * The rule of a source in plain YAML (see plain-yaml.ts), when it loads without a single diagnostic;
 * else undefined, and the source is read again with `yaml`, whose positions every diagnostic names.
 */
function readPlainRule(text: string, options: LoadOptions): RuleDefinition | undefined {
  if (text.length > MAX_RULE_DOCUMENT_CHARS || options.maxDocuments === 0) return undefined;
  const plain = readPlainYaml(text);
  if (!plain) return undefined;
  const checker = new Checker(SourceMap.empty(options.file));
  const rule = checkRule(plain.value, checker, options, { file: options.file, line: plain.line, text });
  return rule && checker.diagnostics.length === 0 ? rule : undefined;
}

function jsonSyntaxError(text: string, file: string | undefined): Diagnostic | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A JSON rule is one object; text that opens with anything else was most likely meant as YAML.
    const looksLikeYaml = !/^\s*[{[]/.test(text);
    const yamlHint = looksLikeYaml
      ? '; this looks like YAML, not JSON: send it as application/yaml (or name the file .yml)'
      : '';
    const at = /position (\d+)/.exec(message)?.[1];
    const offset = at !== undefined ? Number(at) : looksLikeYaml ? text.search(/\S/) : text.length;
    const before = text.slice(0, offset).split('\n');
    return {
      severity: 'error',
      code: 'json_syntax',
      message: `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}${yamlHint}`,
      file,
      line: before.length,
      column: (before.at(-1)?.length ?? 0) + 1,
    };
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function checkRule(
  value: unknown,
  checker: Checker,
  options: LoadOptions,
  source: RuleDefinition['source'],
): RuleDefinition | undefined {
  if (!isPlainObject(value)) {
    checker.error('', 'wrong_type', `a rule must be a mapping of keys, not ${describeType(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if ((RULE_KEYS as readonly string[]).includes(key)) continue;
    const message = `unknown key ${JSON.stringify(key)}`;
    if (options.ignoreExtraKeys) checker.warning(key, 'unknown_key', `${message} (ignored)`);
    // Said for both ways in: the API's query parameter and the CLI's flag.
    else
      checker.error(
        key,
        'unknown_key',
        `${message}; to ignore unknown keys, pass ignoreExtraKeys=true (API) or --ignore-extra-keys (tripline)`,
      );
  }
  const read = new Reader(value, checker);

  const analysisType = read.string('AnalysisType', { required: true });
  if (analysisType !== undefined && analysisType !== 'rule' && analysisType !== 'scheduled_rule') {
    checker.error(
      'AnalysisType',
      'invalid_value',
      analysisType === 'correlation_rule'
        ? 'correlation rules (AnalysisType correlation_rule) are not supported yet'
        : `AnalysisType ${JSON.stringify(analysisType)} is not known: use rule, scheduled_rule, global or datamodel`,
    );
  }
  const ruleId = read.string('RuleID', { required: true });
  if (ruleId !== undefined) checkRuleId(ruleId, checker);
  const severity = read.severity('Severity', { required: true });
  const logTypes = read.stringList('LogTypes');
  const scheduledQueries = read.stringList('ScheduledQueries');
  const logTypesAbsent =
    value.LogTypes === undefined || (Array.isArray(value.LogTypes) && value.LogTypes.length === 0);
  if (analysisType === 'rule' && logTypesAbsent) {
    checker.error('LogTypes', 'missing_key', 'a rule needs LogTypes: the log types it applies to');
  }
  if (analysisType === 'scheduled_rule') {
    checker.warning(
      'AnalysisType',
      'not_run',
      'a scheduled rule runs on the rows of a scheduled query, and scheduled queries are not run yet: it is stored and its tests run, but it never runs on events',
    );
  }
  if (
    analysisType === 'scheduled_rule' &&
    (!scheduledQueries || scheduledQueries.length === 0) &&
    (!logTypes || logTypes.length === 0)
  ) {
    checker.warning(
      'ScheduledQueries',
      'missing_key',
      'a scheduled rule without ScheduledQueries is never fed rows',
    );
  }

  const detection = checkDetection(value, checker, options);
  const dedupPeriodMinutes = read.integer('DedupPeriodMinutes', { min: 0, max: 60 * 24 * 366 });
  const threshold = read.integer('Threshold', { min: 1, max: 1_000_000 });
  const reports = checkReports(value, checker);
  const inlineFilters =
    value.InlineFilters === undefined
      ? []
      : checkMatchList(value.InlineFilters, 'InlineFilters', checker, { inlineFilter: true });
  const alertContext = checkAlertContext(value.AlertContext, checker);
  const groupBy = checkGroupBy(value.GroupBy, checker);
  const dynamicSeverities = checkDynamicSeverities(value.DynamicSeverities, checker);
  const tests = checkTests(value.Tests, checker);
  const alertTitle = read.string('AlertTitle');
  if (alertTitle !== undefined) checkTitleTemplate(alertTitle, checker);
  read.stringList('OutputIds');
  read.string('CreatedBy');
  read.boolean('OnlyUseBaseRiskScore');
  read.string('Status');

  const rule: RuleDefinition = {
    analysisType: analysisType === 'scheduled_rule' ? 'scheduled_rule' : 'rule',
    ruleId: ruleId ?? '',
    displayName: read.string('DisplayName'),
    enabled: read.boolean('Enabled') ?? true,
    logTypes: logTypes ?? [],
    scheduledQueries: scheduledQueries ?? [],
    tags: read.stringList('Tags') ?? [],
    reports,
    severity: severity ?? 'Info',
    description: read.string('Description'),
    runbook: read.string('Runbook'),
    reference: read.string('Reference'),
    dedupPeriodMinutes: dedupPeriodMinutes ?? DEFAULT_DEDUP_PERIOD_MINUTES,
    threshold: threshold ?? 1,
    createAlert: read.boolean('CreateAlert') ?? true,
    summaryAttributes: read.stringList('SummaryAttributes') ?? [],
    detection: detection ?? NO_DETECTION,
    inlineFilters,
    alertTitle,
    alertContext,
    groupBy,
    dynamicSeverities,
    tests,
    source,
  };
  return checker.failed ? undefined : rule;
}

// Rule ids become URL path segments and file names: keep them to a safe alphabet.
const RULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** Whether a text could be a RuleID at all (the loader also refuses `..` and reserved names). */
export function isRuleIdShaped(text: string): boolean {
  return RULE_ID_PATTERN.test(text);
}

/** Path segments of the rules API that a rule id would shadow. */
const RESERVED_RULE_IDS = new Set(['import', 'export']);

function checkRuleId(ruleId: string, checker: Checker): void {
  if (RESERVED_RULE_IDS.has(ruleId.toLowerCase())) {
    checker.error('RuleID', 'invalid_value', `RuleID ${JSON.stringify(ruleId)} is reserved by the API`);
    return;
  }
  if (!RULE_ID_PATTERN.test(ruleId) || ruleId.includes('..')) {
    checker.error(
      'RuleID',
      'invalid_value',
      `RuleID ${JSON.stringify(ruleId.slice(0, 80))} must start with a letter or digit, hold only letters, digits and . _ : - (no ".."), and be at most 200 characters`,
    );
  }
}

function checkDetection(rule: JsonObject, checker: Checker, options: LoadOptions): Detection | undefined {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(rule, key);
  if (has('Detection') && has('Condition')) {
    checker.error('Condition', 'conflicting_keys', 'a rule has either Detection or Condition, not both');
    return undefined;
  }
  if (has('Filename') && (has('Detection') || has('Condition'))) {
    checker.error(
      'Filename',
      'conflicting_keys',
      `a rule has either Filename (a Python body) or ${has('Detection') ? 'Detection' : 'Condition'}, not both`,
    );
    return undefined;
  }
  if (has('Filename')) return checkPythonBody(rule, checker, options);
  if (has('Body')) {
    checker.error(
      'Body',
      'conflicting_keys',
      'Body is the Python source of a rule with Filename; this rule has no Filename',
    );
    return undefined;
  }
  if (has('Detection')) {
    const detection: MatchExpressionDetection = {
      language: 'panther',
      expressions: checkMatchList(rule.Detection, 'Detection', checker),
    };
    return detection;
  }
  if (has('Condition')) return checkConditionLines(rule.Condition, checker);
  checker.error(
    '',
    'missing_key',
    'a rule needs its logic: Detection (match expressions) or Condition (condition lines)',
  );
  return undefined;
}

function checkConditionLines(raw: unknown, checker: Checker): Detection | undefined {
  const lines = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(lines) || lines.length === 0 || !lines.every((line) => typeof line === 'string')) {
    checker.error(
      'Condition',
      'wrong_type',
      `Condition must be a string or a non-empty list of strings, not ${describeType(raw)}`,
    );
    return undefined;
  }
  const paths =
    typeof raw === 'string' ? ['Condition'] : lines.map((_line, index) => joinPath('Condition', index));
  let nodes: ConditionNode[];
  try {
    nodes = parseConditionLines(lines);
  } catch (error) {
    if (!(error instanceof ConditionSyntaxError)) throw error;
    const written = paths[error.lineIndex];
    // Where the line is written; past the opening quote, columns inside it count as the line's own.
    const found = written === undefined ? undefined : checker.sourceMap.get(written);
    const at = found?.value;
    const path = written ?? 'Condition';
    const column = at === undefined ? undefined : at.column + (found?.quoted ? 1 : 0) + error.column - 1;
    checker.report(
      'error',
      path,
      'condition_syntax',
      `condition ${error.lineIndex + 1}: ${error.message}`,
      column,
      at?.line,
    );
    return undefined;
  }
  const detection: ConditionLinesDetection = { language: 'condition', lines, nodes };
  return detection;
}

function checkTitleTemplate(template: string, checker: Checker): void {
  try {
    compileTemplate(template);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    const found = checker.sourceMap.get('AlertTitle');
    const at = found?.value;
    const column = at === undefined ? undefined : at.column + (found?.quoted ? 1 : 0) + error.offset;
    checker.report('error', 'AlertTitle', error.code, `AlertTitle: ${error.message}`, column, at?.line);
  }
}

function checkReports(rule: JsonObject, checker: Checker): Record<string, string[]> {
  const raw = rule.Reports;
  const reports: Record<string, string[]> = {};
  if (raw === undefined || raw === null) return reports;
  if (!isPlainObject(raw)) {
    checker.error(
      'Reports',
      'wrong_type',
      `Reports must map a framework to a list of ids, not ${describeType(raw)}`,
    );
    return reports;
  }
  for (const [framework, ids] of Object.entries(raw)) {
    const path = joinPath('Reports', framework);
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' || typeof id === 'number')) {
      checker.error(path, 'wrong_type', `Reports.${framework} must be a list of ids such as TA0005:T1599`);
      continue;
    }
    setOwn(reports, framework, ids.map(String));
  }
  return reports;
}

function checkAlertContext(raw: unknown, checker: Checker): AlertContextField[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    checker.error(
      'AlertContext',
      'wrong_type',
      `AlertContext must be a list of {KeyName, KeyValue}, not ${describeType(raw)}`,
    );
    return [];
  }
  if (raw.length > MAX_ALERT_CONTEXT_FIELDS) {
    checker.error(
      'AlertContext',
      'too_many',
      `AlertContext may name at most ${MAX_ALERT_CONTEXT_FIELDS} output fields, not ${raw.length}`,
    );
    return [];
  }
  const fields: AlertContextField[] = [];
  const names = new Set<string>();
  raw.forEach((item: unknown, index) => {
    const path = joinPath('AlertContext', index);
    if (!isPlainObject(item)) {
      checker.error(
        path,
        'wrong_type',
        `an AlertContext item must be {KeyName, KeyValue}, not ${describeType(item)}`,
      );
      return;
    }
    for (const key of Object.keys(item)) {
      if (key !== 'KeyName' && key !== 'KeyValue')
        checker.error(
          joinPath(path, key),
          'unknown_key',
          `unknown key ${JSON.stringify(key)} in AlertContext; allowed: KeyName, KeyValue`,
        );
    }
    const keyName = item.KeyName;
    if (typeof keyName !== 'string' || keyName === '') {
      checker.error(
        joinPath(path, 'KeyName'),
        keyName === undefined ? 'missing_key' : 'wrong_type',
        'AlertContext needs KeyName as a non-empty string',
      );
      return;
    }
    if (names.has(keyName))
      checker.error(
        joinPath(path, 'KeyName'),
        'duplicate',
        `AlertContext names ${JSON.stringify(keyName)} twice`,
      );
    names.add(keyName);
    const key = checkStandaloneKey(item.KeyValue, joinPath(path, 'KeyValue'), checker);
    if (key) fields.push({ keyName, key });
  });
  return fields;
}

function checkGroupBy(raw: unknown, checker: Checker): KeySpecifier[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    checker.error(
      'GroupBy',
      'wrong_type',
      `GroupBy must be a list of key specifiers, not ${describeType(raw)}`,
    );
    return [];
  }
  if (raw.length > MAX_GROUP_BY_KEYS) {
    checker.error(
      'GroupBy',
      'too_many',
      `GroupBy may hold at most ${MAX_GROUP_BY_KEYS} keys, not ${raw.length}`,
    );
    return [];
  }
  const keys: KeySpecifier[] = [];
  raw.forEach((item: unknown, index) => {
    const key = checkStandaloneKey(item, joinPath('GroupBy', index), checker);
    if (key) keys.push(key);
  });
  return keys;
}

/** A mapping holding exactly one of Key, DeepKey, KeyPath and nothing else. */
function checkStandaloneKey(raw: unknown, path: string, checker: Checker): KeySpecifier | undefined {
  if (!isPlainObject(raw)) {
    checker.error(
      path,
      raw === undefined ? 'missing_key' : 'wrong_type',
      'expected a key specifier: {Key}, {DeepKey} or {KeyPath}',
    );
    return undefined;
  }
  const key = checkKeySpecifier(raw, path, checker);
  if (key === null)
    checker.error(path, 'missing_key', 'expected a key specifier: {Key}, {DeepKey} or {KeyPath}');
  if (!key) return undefined;
  for (const extra of Object.keys(raw)) {
    if (extra !== key.kind)
      checker.error(
        joinPath(path, extra),
        'unknown_key',
        `unknown key ${JSON.stringify(extra)} in a key specifier`,
      );
  }
  return key;
}

function checkDynamicSeverities(raw: unknown, checker: Checker): DynamicSeverity[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    checker.error(
      'DynamicSeverities',
      'wrong_type',
      `DynamicSeverities must be a list of {ChangeTo, Conditions}, not ${describeType(raw)}`,
    );
    return [];
  }
  const result: DynamicSeverity[] = [];
  raw.forEach((item: unknown, index) => {
    const path = joinPath('DynamicSeverities', index);
    if (!isPlainObject(item)) {
      checker.error(path, 'wrong_type', 'a DynamicSeverities item must be {ChangeTo, Conditions}');
      return;
    }
    for (const key of Object.keys(item)) {
      if (key !== 'ChangeTo' && key !== 'Conditions')
        checker.error(
          joinPath(path, key),
          'unknown_key',
          `unknown key ${JSON.stringify(key)} in DynamicSeverities; allowed: ChangeTo, Conditions`,
        );
    }
    const changeTo = new Reader(item, checker, path).severity('ChangeTo', { required: true });
    if (item.Conditions === undefined) {
      checker.error(path, 'missing_key', 'DynamicSeverities needs Conditions');
      return;
    }
    const conditions = checkMatchList(item.Conditions, joinPath(path, 'Conditions'), checker);
    if (changeTo) result.push({ changeTo, conditions });
  });
  return result;
}

function checkTests(raw: unknown, checker: Checker): RuleTest[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    checker.error('Tests', 'wrong_type', `Tests must be a list, not ${describeType(raw)}`);
    return [];
  }
  const tests: RuleTest[] = [];
  raw.forEach((item: unknown, index) => {
    const path = joinPath('Tests', index);
    if (!isPlainObject(item)) {
      checker.error(
        path,
        'wrong_type',
        `a test must be a mapping with Name, ExpectedResult and Log, not ${describeType(item)}`,
      );
      return;
    }
    for (const key of Object.keys(item)) {
      if (!(TEST_KEYS as readonly string[]).includes(key)) {
        checker.error(
          joinPath(path, key),
          'unknown_key',
          `unknown key ${JSON.stringify(key)} in a test; allowed: ${TEST_KEYS.join(', ')}`,
        );
      }
    }
    const read = new Reader(item, checker, path);
    const name = read.string('Name') ?? `test ${index + 1}`;
    const expectedResult = read.boolean('ExpectedResult', { required: true });
    let log = item.Log;
    if (typeof log === 'string') {
      // Panther also accepts the log as a JSON string.
      try {
        log = JSON.parse(log) as unknown;
      } catch {
        checker.error(joinPath(path, 'Log'), 'wrong_type', 'Log is a string that is not JSON');
        return;
      }
    }
    if (!isPlainObject(log)) {
      checker.error(
        joinPath(path, 'Log'),
        log === undefined ? 'missing_key' : 'wrong_type',
        `a test needs Log: the event as a mapping, not ${describeType(log)}`,
      );
      return;
    }
    if (jsonDepth(log, MAX_TEST_LOG_DEPTH) > MAX_TEST_LOG_DEPTH) {
      checker.error(joinPath(path, 'Log'), 'too_deep', `Log nests deeper than ${MAX_TEST_LOG_DEPTH} levels`);
      return;
    }
    const mocks = checkMocks(item.Mocks, joinPath(path, 'Mocks'), checker);
    const expectedAlertContext = item.ExpectedAlertContext;
    if (expectedAlertContext !== undefined && !isPlainObject(expectedAlertContext)) {
      checker.error(
        joinPath(path, 'ExpectedAlertContext'),
        'wrong_type',
        'ExpectedAlertContext must be a mapping of output field names to values',
      );
    }
    const test: RuleTest = { name, expectedResult: expectedResult ?? false, log };
    const expectedTitle = read.string('ExpectedTitle');
    const expectedDedup = read.string('ExpectedDedup');
    const expectedSeverity = read.severity('ExpectedSeverity');
    if (expectedTitle !== undefined) test.expectedTitle = expectedTitle;
    if (expectedDedup !== undefined) test.expectedDedup = expectedDedup;
    if (expectedSeverity !== undefined) test.expectedSeverity = expectedSeverity;
    if (isPlainObject(expectedAlertContext)) test.expectedAlertContext = expectedAlertContext;
    const logType = read.string('LogType');
    if (logType !== undefined) test.logType = logType;
    if (mocks !== undefined) test.mocks = mocks;
    tests.push(test);
  });
  return tests;
}

/**
 * A test's Mocks: each names something of the rule's Python module and what it returns when called
 * (Panther's tool replaces it with a mock returning `returnValue`, as written: a string or a boolean).
 */
function checkMocks(raw: unknown, path: string, checker: Checker): RuleTestMock[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    checker.error(
      path,
      'wrong_type',
      `Mocks must be a list of {objectName, returnValue}, not ${describeType(raw)}`,
    );
    return undefined;
  }
  const mocks: RuleTestMock[] = [];
  raw.forEach((item: unknown, index) => {
    const at = joinPath(path, index);
    if (!isPlainObject(item) || typeof item.objectName !== 'string' || item.objectName === '') {
      checker.error(
        at,
        'wrong_type',
        'a mock is a mapping with objectName (a name in the rule) and returnValue',
      );
      return;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(item.objectName)) {
      checker.error(
        joinPath(at, 'objectName'),
        'invalid_value',
        `objectName ${JSON.stringify(item.objectName)} is not a Python name`,
      );
      return;
    }
    const returnValue = item.returnValue;
    if (returnValue !== undefined && !isJsonValue(returnValue)) {
      checker.error(
        joinPath(at, 'returnValue'),
        'wrong_type',
        'returnValue must be a string, a boolean or JSON',
      );
      return;
    }
    mocks.push({ objectName: item.objectName, returnValue: returnValue ?? null });
  });
  return mocks;
}

function isJsonValue(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    Array.isArray(value) ||
    isPlainObject(value)
  );
}

/** Typed reads of optional keys, each wrong type reported against its key. */
class Reader {
  constructor(
    private readonly node: JsonObject,
    private readonly checker: Checker,
    private readonly path = '',
  ) {}

  private get(key: string, required: boolean): unknown {
    const value = Object.prototype.hasOwnProperty.call(this.node, key) ? this.node[key] : undefined;
    if (value === undefined && required)
      this.checker.error(joinPath(this.path, key), 'missing_key', `${key} is required`);
    return value;
  }

  private wrong(key: string, what: string, value: unknown): undefined {
    this.checker.error(
      joinPath(this.path, key),
      'wrong_type',
      `${key} must be ${what}, not ${describeType(value)}`,
    );
    return undefined;
  }

  string(key: string, options: { required?: boolean } = {}): string | undefined {
    const value = this.get(key, options.required ?? false);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') return this.wrong(key, 'a string', value);
    if (options.required && value.trim() === '') {
      this.checker.error(joinPath(this.path, key), 'invalid_value', `${key} must not be empty`);
      return undefined;
    }
    return value;
  }

  boolean(key: string, options: { required?: boolean } = {}): boolean | undefined {
    const value = this.get(key, options.required ?? false);
    if (value === undefined) return undefined;
    return typeof value === 'boolean' ? value : this.wrong(key, 'true or false', value);
  }

  integer(key: string, bounds: { min: number; max: number }): number | undefined {
    const value = this.get(key, false);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value))
      return this.wrong(key, 'a whole number', value);
    if (value < bounds.min || value > bounds.max) {
      this.checker.error(
        joinPath(this.path, key),
        'invalid_value',
        `${key} must be between ${bounds.min} and ${bounds.max}, not ${value}`,
      );
      return undefined;
    }
    return value;
  }

  stringList(key: string): string[] | undefined {
    const value = this.get(key, false);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
      return this.wrong(key, 'a list of strings', value);
    return value;
  }

  severity(key: string, options: { required?: boolean } = {}): Severity | undefined {
    const value = this.get(key, options.required ?? false);
    if (value === undefined) return undefined;
    const found =
      typeof value === 'string'
        ? SEVERITIES.find((severity) => severity.toLowerCase() === value.toLowerCase())
        : undefined;
    if (!found) {
      this.checker.error(
        joinPath(this.path, key),
        'invalid_value',
        `${key} must be one of ${SEVERITIES.join(', ')}, not ${JSON.stringify(value)}`,
      );
    }
    return found;
  }
}

/** The deepest run of open brackets ([ and {), counting every bracket in the text. */
function bracketDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if ((code === 0x5d || code === 0x7d) && depth > 0) depth--;
  }
  return deepest;
}
