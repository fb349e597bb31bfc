import { loadRulePaths } from '../engine/pack.js';
import type { CommandOptions } from './command-options.js';
import { DEFAULT_RULE_PATHS, printDiagnostics } from './output.js';

/** `tripline validate`: parse and check only; every problem with its file, line and key. */
export async function validateCommand(paths: string[], options: CommandOptions): Promise<number> {
  const loaded = await loadRulePaths(paths.length > 0 ? paths : DEFAULT_RULE_PATHS, {
    ignoreExtraKeys: options['ignore-extra-keys'],
  });
  const errors = loaded.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  const filesWithErrors = new Set(errors.map((diagnostic) => diagnostic.file)).size;
  if (options.json) {
    const report = {
      files: loaded.files.length,
      validRules: loaded.rules.length,
      filesWithErrors,
      diagnostics: loaded.diagnostics,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    printDiagnostics(loaded.diagnostics);
    process.stdout.write(
      `${loaded.rules.length} valid rules in ${loaded.files.length} files, ${filesWithErrors} files with errors\n`,
    );
  }
  return errors.length === 0 ? 0 : 1;
}
