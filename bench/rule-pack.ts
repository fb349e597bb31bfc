// The benchmark's rule set: the built-in pack, every AWS.CloudTrail rule of the shared conformance
// fixtures, and generated rules up to the wanted total. The engine compiles the definitions; the server
// gets the same texts as files of a built-in pack.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { compileRule } from '../src/engine/compile.js';
import { loadRuleSource } from '../src/engine/panther/rule-file.js';
import type { RuleDefinition } from '../src/engine/rule.js';
import { describeFailure, runRuleTests } from '../src/engine/test-runner.js';
import { generateRules, type CorpusProfile, type GeneratedRule } from './generated-rules.js';
import { plainMatches } from './plain-evaluator.js';

export const CLOUDTRAIL = 'AWS.CloudTrail';
export const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';

export type RuleOrigin = 'built-in' | 'conformance' | 'generated';

export interface RuleFile {
  /** A file name for the server's rule directory. */
  name: string;
  text: string;
}

export interface RulePack {
  definitions: RuleDefinition[];
  files: RuleFile[];
  origins: Map<string, RuleOrigin>;
  generated: GeneratedRule[];
}

const RULE_EXTENSIONS = new Set(['.yml', '.yaml']);

function ruleFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => RULE_EXTENSIONS.has(extname(name).toLowerCase()))
    .sort();
}

/** Loads a text; any error is fatal here, since every rule of the pack is meant to load. */
function load(text: string, file: string, ignoreExtraKeys: boolean): RuleDefinition[] {
  const result = loadRuleSource(text, { file, ignoreExtraKeys });
  const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  if (errors.length > 0) {
    const lines = errors.map(
      (error) => `${file}:${error.line ?? '?'}:${error.column ?? '?'}: ${error.message}`,
    );
    throw new Error(`${file} does not load:\n${lines.join('\n')}`);
  }
  return result.rules;
}

export function buildRulePack(options: {
  builtinDir: string;
  conformanceDir: string;
  profile: CorpusProfile;
  total: number;
  /** How the generated rules are drawn (generateRules' options); the default: its own. */
  generator?: Parameters<typeof generateRules>[3];
}): RulePack {
  const definitions: RuleDefinition[] = [];
  const files: RuleFile[] = [];
  const origins = new Map<string, RuleOrigin>();
  const take = (rules: RuleDefinition[], file: RuleFile, origin: RuleOrigin) => {
    for (const rule of rules) {
      if (origins.has(rule.ruleId))
        throw new Error(`RuleID ${rule.ruleId} is defined twice in the benchmark pack`);
      origins.set(rule.ruleId, origin);
      definitions.push(rule);
    }
    files.push(file);
  };

  for (const name of ruleFiles(options.builtinDir)) {
    const path = join(options.builtinDir, name);
    const text = readFileSync(path, 'utf8');
    take(load(text, path, false), { name: `builtin-${name}`, text }, 'built-in');
  }
  if (!origins.has(SEED_RULE_ID))
    throw new Error(`the built-in pack (${options.builtinDir}) lacks ${SEED_RULE_ID}`);

  for (const name of ruleFiles(options.conformanceDir)) {
    const path = join(options.conformanceDir, name);
    const text = readFileSync(path, 'utf8');
    // Panther's own tool runs these fixtures with --ignore-extra-keys.
    const rules = load(text, path, true);
    if (rules.length > 0 && rules.every((rule) => rule.logTypes.includes(CLOUDTRAIL)))
      take(rules, { name: `conformance-${name}`, text }, 'conformance');
  }

  const generated = generateRules(
    options.profile,
    Math.max(0, options.total - definitions.length),
    undefined,
    options.generator,
  );
  for (const rule of generated) {
    const name = `${rule.description.ruleId}.yml`;
    const loaded = load(rule.yaml, name, false);
    checkGeneratedRule(rule, loaded);
    take(loaded, { name, text: rule.yaml }, 'generated');
  }
  return { definitions, files, origins, generated };
}

/**
 * A generated rule must load as exactly one rule, pass its own tests in the engine's test runner, and
 * give the same verdict on those test logs in the plain evaluator.
 */
function checkGeneratedRule(rule: GeneratedRule, loaded: RuleDefinition[]): void {
  const [definition] = loaded;
  if (loaded.length !== 1 || !definition || definition.ruleId !== rule.description.ruleId)
    throw new Error(`generated rule ${rule.description.ruleId} did not load as one rule:\n${rule.yaml}`);
  if (definition.tests.length === 0) throw new Error(`generated rule ${definition.ruleId} has no tests`);
  for (const result of runRuleTests(compileRule(definition))) {
    if (!result.passed)
      throw new Error(
        `generated rule ${definition.ruleId}, test "${result.name}" fails: ${result.error ?? result.failures.map(describeFailure).join('; ')}\n${rule.yaml}`,
      );
  }
  for (const test of definition.tests) {
    if (plainMatches(rule.description, test.log) !== test.expectedResult)
      throw new Error(
        `the plain evaluator disagrees with test "${test.name}" of ${definition.ruleId}\n${rule.yaml}`,
      );
  }
}
