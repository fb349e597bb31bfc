// `tripline`: test, validate and evaluate rule files from the command line, on the same engine the
// service runs. Exit codes: 0 success, 1 a test failed or a rule is invalid, 2 wrong usage or I/O error.
import { parseCommandLine, UsageError } from './command-options.js';
import { evalCommand } from './eval.command.js';
import { pushCommand } from './push.command.js';
import { testCommand } from './test.command.js';
import { validateCommand } from './validate.command.js';

export const USAGE = `usage: tripline <command> [options]

  test [PATH…]       run every rule's Tests (default PATH: rules/)
      --ignore-extra-keys   unknown top-level keys are warnings, not errors
      --json                one JSON document instead of text
  validate [PATH…]   parse and check rule files without running their tests
      --ignore-extra-keys, --json
  eval --rules PATH --events FILE [--log-type TYPE]
                     evaluate NDJSON events (FILE may be .gz, or - for stdin); prints each hit as
                     one NDJSON line and a summary on stderr
      --include-disabled    evaluate rules with Enabled: false too
      --ignore-extra-keys
  push --server URL [--key KEY] [--dry-run] PATH…
                     send rule files to a Tripline server as one pack (all or nothing) and print its
                     report; KEY may also come from TRIPLINE_API_KEY
      --store-disabled      store rules whose tests fail, disabled, instead of refusing the pack
      --ignore-extra-keys
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    const { values, positionals } = parseCommandLine(rest);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    switch (command) {
      case 'test':
        return await testCommand(positionals, values);
      case 'validate':
        return await validateCommand(positionals, values);
      case 'eval':
        return await evalCommand(positionals, values);
      case 'push':
        return await pushCommand(positionals, values);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tripline: ${message}\n${usage ? `\n${USAGE}` : ''}`);
    return 2;
  }
}
