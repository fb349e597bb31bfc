// The Python side of Panther's files: a rule's body named by `Filename` (or sent as `Body`), and the two
// documents that are not rules, global helpers (`AnalysisType: global`) and data models (`AnalysisType:
// datamodel`). Checked here with the same Checker as rules, so every problem names its key and line.
import type { LoadOptions } from './rule-file.js';
import type { RuleDefinition } from '../rule.js';
import type {
  DataModelDefinition,
  DataModelMapping,
  GlobalHelperDefinition,
  PythonRuleDetection,
} from '../python/python-library.js';
import { joinPath } from '../source-map.js';
import { isPlainObject, type JsonObject } from '../values.js';
import { describeType, type Checker } from './checker.js';

/** A Python body larger than this is refused (source, not data). */
export const MAX_PYTHON_BODY_CHARS = 512 * 1024;

const PYTHON_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A file named beside the YAML: a plain name, never a path. */
const PYTHON_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}\.py$/;

const GLOBAL_KEYS = ['AnalysisType', 'GlobalID', 'Filename', 'Body', 'Description', 'Tags'];
const DATA_MODEL_KEYS = [
  'AnalysisType',
  'DataModelID',
  'DisplayName',
  'Enabled',
  'LogTypes',
  'Mappings',
  'Filename',
  'Body',
  'Description',
];

/** The body of a rule, helper or data model: `Body` as sent, or the file `Filename` names beside it. */
function readBody(
  document: JsonObject,
  checker: Checker,
  options: LoadOptions,
): { filename: string; body: string } | undefined {
  const filename = document.Filename;
  if (typeof filename !== 'string' || !PYTHON_FILE_NAME.test(filename)) {
    checker.error(
      'Filename',
      typeof filename === 'string' ? 'invalid_value' : 'wrong_type',
      `Filename must name a .py file beside this one (letters, digits, _ . -), not ${typeof filename === 'string' ? JSON.stringify(filename.slice(0, 80)) : describeType(filename)}`,
    );
    return undefined;
  }
  let body: unknown = document.Body;
  if (body === undefined) {
    body = options.companionFile?.(filename);
    if (body === undefined) {
      checker.error(
        'Filename',
        'missing_body',
        `the Python source ${filename} is not here: put it beside the YAML file, send it as Body, or upload both as multipart/form-data`,
      );
      return undefined;
    }
  }
  if (typeof body !== 'string') {
    checker.error(
      'Body',
      'wrong_type',
      `Body must be the Python source as a string, not ${describeType(body)}`,
    );
    return undefined;
  }
  if (body.length > MAX_PYTHON_BODY_CHARS) {
    checker.error(
      'Body',
      'too_large',
      `${filename} holds ${body.length} characters; at most ${MAX_PYTHON_BODY_CHARS} are taken`,
    );
    return undefined;
  }
  if (body.includes('\u0000')) {
    checker.error('Body', 'invalid_value', `${filename} holds a NUL character: it is not Python source`);
    return undefined;
  }
  return { filename, body };
}

export function checkPythonBody(
  document: JsonObject,
  checker: Checker,
  options: LoadOptions,
): PythonRuleDetection | undefined {
  const read = readBody(document, checker, options);
  return read && { language: 'python', filename: read.filename, body: read.body };
}

function unknownKeys(
  document: JsonObject,
  allowed: readonly string[],
  checker: Checker,
  options: LoadOptions,
): void {
  for (const key of Object.keys(document)) {
    if (allowed.includes(key)) continue;
    const message = `unknown key ${JSON.stringify(key)}`;
    if (options.ignoreExtraKeys) checker.warning(key, 'unknown_key', `${message} (ignored)`);
    else checker.error(key, 'unknown_key', `${message}; allowed: ${allowed.join(', ')}`);
  }
}

export function checkGlobalHelper(
  document: JsonObject,
  checker: Checker,
  options: LoadOptions,
  source: RuleDefinition['source'],
): GlobalHelperDefinition | undefined {
  unknownKeys(document, GLOBAL_KEYS, checker, options);
  const globalId = document.GlobalID;
  if (typeof globalId !== 'string' || !PYTHON_NAME.test(globalId)) {
    checker.error(
      'GlobalID',
      globalId === undefined ? 'missing_key' : 'invalid_value',
      'GlobalID is required: the module name rules import the helper by (letters, digits and _)',
    );
  }
  const body = readBody(document, checker, options);
  const description = typeof document.Description === 'string' ? document.Description : undefined;
  if (checker.failed || body === undefined || typeof globalId !== 'string') return undefined;
  return {
    globalId,
    filename: body.filename,
    body: body.body,
    ...(description ? { description } : {}),
    source,
  };
}

export function checkDataModel(
  document: JsonObject,
  checker: Checker,
  options: LoadOptions,
  source: RuleDefinition['source'],
): DataModelDefinition | undefined {
  unknownKeys(document, DATA_MODEL_KEYS, checker, options);
  const dataModelId = document.DataModelID;
  if (typeof dataModelId !== 'string' || dataModelId === '' || dataModelId.length > 200) {
    checker.error(
      'DataModelID',
      dataModelId === undefined ? 'missing_key' : 'invalid_value',
      'DataModelID is required: a name of at most 200 characters',
    );
  }
  const logTypes = document.LogTypes;
  if (
    !Array.isArray(logTypes) ||
    logTypes.length === 0 ||
    !logTypes.every((item) => typeof item === 'string')
  ) {
    checker.error(
      'LogTypes',
      logTypes === undefined ? 'missing_key' : 'wrong_type',
      'a data model needs LogTypes: the log types whose events it describes',
    );
  }
  const enabled = document.Enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean')
    checker.error('Enabled', 'wrong_type', `Enabled must be true or false, not ${describeType(enabled)}`);
  const mappings = checkMappings(document.Mappings, checker);
  const usesMethods = mappings.some((mapping) => mapping.method !== undefined);
  const hasFile = document.Filename !== undefined || document.Body !== undefined;
  let body: { filename: string; body: string } | undefined;
  if (hasFile) body = readBody(document, checker, options);
  else if (usesMethods)
    checker.error(
      'Filename',
      'missing_key',
      'a data model whose Mappings name a Method needs Filename: the Python source of its methods',
    );
  if (checker.failed || typeof dataModelId !== 'string') return undefined;
  return {
    dataModelId,
    ...(typeof document.DisplayName === 'string' ? { displayName: document.DisplayName } : {}),
    enabled: enabled !== false,
    logTypes: logTypes as string[],
    mappings,
    ...(body ? { filename: body.filename, body: body.body } : {}),
    source,
  };
}

function checkMappings(raw: unknown, checker: Checker): DataModelMapping[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    checker.error(
      'Mappings',
      raw === undefined ? 'missing_key' : 'wrong_type',
      'Mappings must be a list of {Name, Path} or {Name, Method}',
    );
    return [];
  }
  const mappings: DataModelMapping[] = [];
  const names = new Set<string>();
  raw.forEach((item: unknown, index) => {
    const at = joinPath('Mappings', index);
    if (!isPlainObject(item) || typeof item.Name !== 'string' || item.Name === '') {
      checker.error(at, 'wrong_type', 'a mapping is {Name, Path} or {Name, Method}, with Name a string');
      return;
    }
    const hasPath = typeof item.Path === 'string' && item.Path !== '';
    const hasMethod = typeof item.Method === 'string' && item.Method !== '';
    if (hasPath === hasMethod) {
      checker.error(at, 'invalid_value', `mapping ${item.Name} needs exactly one of Path and Method`);
      return;
    }
    if (hasMethod && !PYTHON_NAME.test(item.Method as string)) {
      checker.error(
        joinPath(at, 'Method'),
        'invalid_value',
        `Method ${JSON.stringify(item.Method)} is not a Python function name`,
      );
      return;
    }
    if (names.has(item.Name)) {
      checker.error(joinPath(at, 'Name'), 'duplicate', `mapping ${item.Name} is defined twice`);
      return;
    }
    names.add(item.Name);
    mappings.push(
      hasPath
        ? { name: item.Name, path: item.Path as string }
        : { name: item.Name, method: item.Method as string },
    );
  });
  return mappings;
}
