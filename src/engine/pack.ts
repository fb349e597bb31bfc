// A pack: rule files gathered from files and directories, loaded together, RuleIDs unique across them.
import { readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import { readRuleSource } from './formats/registry.js';
import { analysisTypeNotKept } from './panther/rule-file.js';
import type { ReadOptions, ReadResult } from './formats/rule-format.js';
import type { DataModelDefinition, GlobalHelperDefinition, PythonLibrary } from './python/python-library.js';
import type { RuleDefinition } from './rule.js';

export const RULE_FILE_EXTENSIONS = new Set(['.yml', '.yaml', '.json']);

/** Files named by `paths`, directories expanded recursively to their rule files, in a stable order. */
export async function collectRuleFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) files.push(...(await walk(path)));
    else files.push(path);
  }
  return files;
}

async function walk(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (entry.isFile() && RULE_FILE_EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(path);
  }
  return files;
}

/** Flags a RuleID defined twice in one pack; the later definition is dropped. */
export function rejectDuplicateRuleIds(rules: readonly RuleDefinition[]): {
  rules: RuleDefinition[];
  diagnostics: Diagnostic[];
} {
  const seen = new Map<string, RuleDefinition>();
  const diagnostics: Diagnostic[] = [];
  const unique: RuleDefinition[] = [];
  for (const rule of rules) {
    const first = seen.get(rule.ruleId);
    if (first) {
      diagnostics.push({
        severity: 'error',
        code: 'duplicate_rule_id',
        message: `RuleID ${rule.ruleId} is already defined at ${first.source.file ?? '(input)'}:${first.source.line}`,
        key: 'RuleID',
        file: rule.source.file,
        line: rule.source.line,
      });
      continue;
    }
    seen.set(rule.ruleId, rule);
    unique.push(rule);
  }
  return { rules: unique, diagnostics };
}

/** A file a rule names (its Python body) beside the rule file: read when it is a regular file. */
function companionReader(file: string): (name: string) => string | undefined {
  return (name) => {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) return undefined;
    const path = join(dirname(file), name);
    try {
      if (!statSync(path).isFile()) return undefined;
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
}

export interface LoadedPack extends ReadResult {
  files: string[];
  /** The global helpers and data models the pack holds (Panther's Python content). */
  library: PythonLibrary;
}

export async function loadRulePaths(
  paths: readonly string[],
  options: Omit<ReadOptions, 'file'> = {},
): Promise<LoadedPack> {
  const files = await collectRuleFiles(paths);
  const rules: RuleDefinition[] = [];
  const helpers: GlobalHelperDefinition[] = [];
  const dataModels: DataModelDefinition[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const notKept = analysisTypeNotKept(text);
    if (notKept !== undefined) {
      diagnostics.push({
        severity: 'warning',
        code: 'not_kept',
        message: `left out: AnalysisType ${notKept} is not something Tripline runs${notKept === 'correlation_rule' ? ' yet (its tests are not run)' : ''}`,
        file,
        line: 1,
      });
      continue;
    }
    const result = readRuleSource(text, {
      ...options,
      file,
      companionFile: companionReader(file),
    });
    rules.push(...result.rules);
    helpers.push(...(result.helpers ?? []));
    dataModels.push(...(result.dataModels ?? []));
    diagnostics.push(...result.diagnostics);
  }
  const unique = rejectDuplicateRuleIds(rules);
  const library = uniqueLibrary(helpers, dataModels);
  return {
    files,
    rules: unique.rules,
    library: library.library,
    diagnostics: [...diagnostics, ...unique.diagnostics, ...library.diagnostics],
  };
}

/** A GlobalID or DataModelID defined twice in one pack is an error; the later one is dropped. */
function uniqueLibrary(
  helpers: readonly GlobalHelperDefinition[],
  dataModels: readonly DataModelDefinition[],
): { library: PythonLibrary; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const keep = <T extends { source: { file?: string; line: number } }>(
    items: readonly T[],
    id: (item: T) => string,
    key: string,
  ) => {
    const seen = new Map<string, T>();
    for (const item of items) {
      const first = seen.get(id(item));
      if (first) {
        diagnostics.push({
          severity: 'error',
          code: 'duplicate_id',
          message: `${key} ${id(item)} is already defined at ${first.source.file ?? '(input)'}:${first.source.line}`,
          key,
          file: item.source.file,
          line: item.source.line,
        });
        continue;
      }
      seen.set(id(item), item);
    }
    return [...seen.values()];
  };
  return {
    library: {
      helpers: keep(helpers, (helper) => helper.globalId, 'GlobalID'),
      dataModels: keep(dataModels, (model) => model.dataModelId, 'DataModelID'),
    },
    diagnostics,
  };
}
