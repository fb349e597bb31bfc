// What every command receives from the command line, and the error for a command line that makes no
// sense. Apart from main.ts so that the commands can import them without importing main.ts back.
import { parseArgs } from 'node:util';

/** Wrong usage: main.ts prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export type CommandOptions = ReturnType<typeof parseCommandLine>['values'];

/** The options of all commands; each command reads the ones it has. */
export function parseCommandLine(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'ignore-extra-keys': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      rules: { type: 'string', multiple: true },
      events: { type: 'string' },
      'log-type': { type: 'string' },
      'include-disabled': { type: 'boolean', default: false },
      server: { type: 'string' },
      key: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'store-disabled': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
