// A pack: rule files gathered from files and directories, loaded together, RuleIDs unique across them.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import { readRuleSource } from './formats/registry.js';
import type { ReadOptions, ReadResult } from './formats/rule-format.js';
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

export async function loadRulePaths(
  paths: readonly string[],
  options: Omit<ReadOptions, 'file'> = {},
): Promise<ReadResult & { files: string[] }> {
  const files = await collectRuleFiles(paths);
  const rules: RuleDefinition[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const result = readRuleSource(await readFile(file, 'utf8'), { ...options, file });
    rules.push(...result.rules);
    diagnostics.push(...result.diagnostics);
  }
  const unique = rejectDuplicateRuleIds(rules);
  return { files, rules: unique.rules, diagnostics: [...diagnostics, ...unique.diagnostics] };
}
