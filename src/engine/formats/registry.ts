// Which rule formats Tripline knows, and the one way in for rule sources: an upload, a pack on disk and
// a stored version are all read here. A new format is a folder under src/engine and one line below.
import { conditionLinesFormat } from '../condition/format.js';
import type { Diagnostic } from '../diagnostics.js';
import { matchExpressionFormat } from '../panther/format.js';
import { pantherRuleReader } from '../panther/rule-file.js';
import { pythonRuleFormat } from '../python/format.js';
import type { RuleDefinition } from '../rule.js';
import type { ReadOptions, ReadResult, RuleFormat, RuleSourceReader } from './rule-format.js';

const BUILT_IN_FORMATS: readonly RuleFormat[] = [
  matchExpressionFormat,
  conditionLinesFormat,
  pythonRuleFormat,
];

const formats = new Map<string, RuleFormat>();
for (const format of BUILT_IN_FORMATS) registerRuleFormat(format);

/** Makes a format known to every reader and compiler in this process; its name must be new. */
export function registerRuleFormat(format: RuleFormat): void {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(format.name))
    throw new Error(`a rule format's name is 1 to 32 lower-case letters, digits and dashes: ${format.name}`);
  if (formats.has(format.name)) throw new Error(`rule format ${format.name} is already registered`);
  formats.set(format.name, format);
}

/** Forgets a plug-in format (tests); the built-in ones stay. */
export function unregisterRuleFormat(name: string): void {
  if (BUILT_IN_FORMATS.some((format) => format.name === name))
    throw new Error(`rule format ${name} is built in`);
  formats.delete(name);
}

/** Whether every format this process knows is built in: a plug-in's is known to this thread only. */
export function onlyBuiltInRuleFormats(): boolean {
  return formats.size === BUILT_IN_FORMATS.length;
}

export function ruleFormatNames(): string[] {
  return [...formats.keys()];
}

/** The format a detection's language names; throws for one this process does not know. */
export function ruleFormat(name: string): RuleFormat {
  const format = formats.get(name);
  if (!format) throw new Error(`unknown rule format ${JSON.stringify(name)}`);
  return format;
}

/** Plug-in readers are asked first, in registration order; Panther's reads whatever none claims. */
function readerFor(text: string): RuleSourceReader {
  for (const { reader } of formats.values())
    if (reader !== pantherRuleReader && reader.claims(text)) return reader;
  return pantherRuleReader;
}

/**
 * Reads a source of any known kind into checked rules, or with the reader of `formatName` when the
 * format is known (a stored version). A rule whose detection is in a format this process does not know
 * is refused with an error, not passed on.
 */
export function readRuleSource(text: string, options: ReadOptions = {}, formatName?: string): ReadResult {
  const stored = formatName === undefined ? undefined : formats.get(formatName);
  const read = (stored?.reader ?? readerFor(text)).read(text, options);
  const rules: RuleDefinition[] = [];
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  for (const rule of read.rules) {
    if (formats.has(rule.detection.language)) {
      rules.push(rule);
      continue;
    }
    diagnostics.push({
      severity: 'error',
      code: 'unknown_format',
      message: `rule ${rule.ruleId} is written in ${rule.detection.language}, which this server cannot run (it knows ${ruleFormatNames().join(', ')})`,
      key: 'RuleID',
      file: options.file,
      line: rule.source.line,
    });
  }
  return {
    rules,
    diagnostics,
    ...(read.helpers ? { helpers: read.helpers } : {}),
    ...(read.dataModels ? { dataModels: read.dataModels } : {}),
  };
}

/**
 * A stored version's source, read back with the reader of the format it was stored under. Undefined
 * when it no longer reads as one rule of that format (the format was removed, or became stricter).
 */
export function readStoredRule(formatName: string, sourceText: string): RuleDefinition | undefined {
  const format = formats.get(formatName);
  if (!format) return undefined;
  const { rules } = format.reader.read(sourceText, { ignoreExtraKeys: true });
  const [rule, ...more] = rules;
  return rule && more.length === 0 && rule.detection.language === formatName ? rule : undefined;
}
