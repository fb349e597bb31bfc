// Regular expressions from rules run on RE2 (re2js): linear time in the input, so no pattern can
// make evaluation hang, whatever a rule author writes.
import { RE2JS } from 're2js';

export class RegexSyntaxError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'RegexSyntaxError';
  }
}

/** Longest pattern accepted; RE2 programs grow with the pattern, so this bounds memory. */
export const MAX_PATTERN_LENGTH = 4096;

export interface LinearRegex {
  readonly pattern: string;
  /** True when the pattern matches anywhere in the text (Python's `re.search`). */
  test(text: string): boolean;
}

export function compileRegex(pattern: string, options: { ignoreCase?: boolean } = {}): LinearRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexSyntaxError(pattern.slice(0, 40) + '…', `longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern, options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (error) {
    throw new RegexSyntaxError(pattern, error instanceof Error ? error.message : String(error));
  }
  return { pattern, test: (text) => compiled.test(text) };
}
