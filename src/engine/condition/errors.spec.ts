// Every syntax error: its message says what is wrong and its column points at the offending token.
import { describe, expect, it } from 'vitest';
import {
  compileCondition,
  compileConditionLines,
  ConditionSyntaxError,
  MAX_NESTING,
  parseCondition,
} from './index.js';

/** Parses `line` and returns the error it must throw. */
function syntaxErrorOf(parse: () => unknown): ConditionSyntaxError {
  try {
    parse();
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return error;
    throw error;
  }
  throw new Error('expected a ConditionSyntaxError, but parsing succeeded');
}

type ErrorCase = readonly [line: string, column: number, reason: string | RegExp];

function expectErrors(cases: readonly ErrorCase[]): void {
  it.each(cases.map(([line, column, reason]) => ({ line, column, reason })))(
    '$line → column $column',
    ({ line, column, reason }) => {
      const error = syntaxErrorOf(() => parseCondition(line));
      expect(error.column).toBe(column);
      expect(error.lineIndex).toBe(0);
      expect(error.reason).toMatch(reason);
    },
  );
}

describe('empty and incomplete lines', () => {
  expectErrors([
    ['', 1, 'the condition line is empty'],
    ['   ', 1, 'the condition line is empty'],
    ['a', 2, "missing operator after 'a'"],
    ['a eq 1 and', 11, 'expected a condition, found the end of the line'],
    ['a eq 1 or ', 11, 'expected a condition, found the end of the line'],
    ['not', 4, 'expected a condition, found the end of the line'],
  ]);
});

describe('unknown operators', () => {
  expectErrors([
    ['a equals "x"', 3, "unknown operator 'equals' (use 'eq')"],
    ['a == "x"', 3, "unknown operator '==' (use 'eq')"],
    ['a != "x"', 3, "unknown operator '!=' (use 'ne')"],
    ['a >= 3', 3, "unknown operator '>=' (use 'gte')"],
    ['a EQ "x"', 3, "unknown operator 'EQ' (operators are lower case: 'eq')"],
    [
      'a frobnicates "x"',
      3,
      /^unknown operator 'frobnicates'; expected one of eq, ne, .* cross_field_compare$/,
    ],
    [
      'a not startswith "x"',
      7,
      "'not' after a path must be followed by 'contains', 'in' or 'exists', found 'startswith'",
    ],
    ['a not', 6, /'not' after a path must be .* found the end of the line/],
    ['a ("x")', 3, "expected an operator after the path, found '('"],
    ['a==1', 2, /^'=' cannot appear in a path \(operators are words/],
  ]);
});

describe('missing and malformed values', () => {
  expectErrors([
    ['a eq', 5, "missing value after 'eq'"],
    ['a eq   ', 8, "missing value after 'eq'"],
    ['a eq and b exists', 6, "missing value after 'eq', found 'and'"],
    ['(a eq)', 6, "expected a value after 'eq', found ')'"],
    [
      'a eq AwsVpceEvent',
      6,
      "expected a value after 'eq', found 'AwsVpceEvent' (strings are written in double quotes)",
    ],
    ["a eq 'x'", 6, 'strings are written in double quotes'],
    ['a eq None', 6, "expected a value after 'eq', found 'None' (write null)"],
    ['a eq True', 6, "found 'True' (write true)"],
    ['a eq 1x', 6, "invalid number '1x'"],
    ['a eq 1.', 6, "invalid number '1.'"],
    ['a eq .5', 6, "expected a value after 'eq', found '.5'"],
    ['a eq -', 6, "invalid number '-'"],
    ['a eq 1e999', 6, "number '1e999' is too large"],
  ]);
});

describe('unterminated strings', () => {
  expectErrors([
    ['a eq "x', 6, 'unterminated string: the closing " is missing'],
    ['a eq "x\\"', 6, 'unterminated string'],
    ['a in ["x", "y]', 12, 'unterminated string'],
    ['a cross_field_compare "b', 23, 'unterminated string'],
  ]);
});

describe('unbalanced parentheses and brackets', () => {
  expectErrors([
    ['(a eq 1', 1, "unbalanced '(': it is never closed"],
    ['not ((a eq 1) or b eq 2', 5, "unbalanced '(': it is never closed"],
    ['a eq 1)', 7, "unbalanced ')': there is no '(' for it to close"],
    ['(a eq 1))', 9, "unbalanced ')'"],
    [')', 1, "expected a condition, found ')'"],
    ['()', 2, "expected a condition, found ')'"],
    ['(a eq 1 b eq 2)', 9, "expected 'and', 'or' or ')', found 'b'"],
    ['a in ["x"', 6, "unbalanced '[': the list is never closed"],
    ['a in [', 6, "unbalanced '[': the list is never closed"],
    ['a in ["x" "y"]', 11, "expected ',' or ']' in the list, found a string"],
    ['a in ["x",]', 11, "expected a value after ',' (no trailing comma)"],
    ['a in [,]', 7, "expected a value in the list, found ','"],
    ['a in [["x"]]', 7, 'a list holds strings, numbers, true, false or null, not other lists'],
  ]);
});

describe('trailing input', () => {
  expectErrors([
    ['a eq 1 b', 8, "expected 'and', 'or' or the end of the line, found 'b'"],
    ['a eq 1 "x"', 8, "expected 'and', 'or' or the end of the line, found a string"],
    ['a eq 1 AND b eq 2', 8, "found 'AND' (keywords are lower case)"],
    ['a eq 1 && b eq 2', 8, "found '&&'"],
    ['a exists b', 10, "expected 'and', 'or' or the end of the line, found 'b'"],
  ]);
});

describe('values of the wrong kind for the operator', () => {
  expectErrors([
    ['a in "Root"', 6, '\'in\' needs a list such as ["a", "b"]'],
    ['a not in 1', 10, "'not in' needs a list"],
    ['a eq ["x"]', 6, "'eq' takes one value, not a list; use 'in'"],
    ['a ne ["x"]', 6, "'ne' takes one value, not a list; use 'not in'"],
    ['a contains ["x"]', 12, "'contains' takes one value, not a list"],
    ['a gt true', 6, "'gt' compares with a number or a quoted string"],
    ['a lte null', 7, "'lte' compares with a number or a quoted string"],
    ['a gte [1]', 7, "'gte' compares with a number or a quoted string"],
    ['a startswith 1', 14, "'startswith' needs a quoted string"],
    ['a endswith null', 12, "'endswith' needs a quoted string"],
    ['a matches 5', 11, "'matches' needs a regular expression in a quoted string"],
    ['a exists "x"', 10, "'exists' takes no value"],
    ['a not exists true', 14, "'not exists' takes no value"],
    ['a is_null null', 11, "'is_null' takes no value"],
    ['a is_not_null ""', 15, "'is_not_null' takes no value"],
    ['a is_null 0', 11, "'is_null' takes no value"],
    ['a exists []', 10, "'exists' takes no value"],
    [
      'a cross_field_compare 5',
      23,
      '\'cross_field_compare\' takes a quoted path such as "userIdentity.accountId"',
    ],
    ['a cross_field_compare b.c', 23, "'cross_field_compare' takes a quoted path"],
    ['a cross_field_compare', 22, "missing value after 'cross_field_compare'"],
  ]);
});

describe('bad paths', () => {
  expectErrors([
    ['"a" eq 1', 1, 'expected a path, found a string (paths are written without quotes)'],
    ['and eq 1', 1, "expected a condition, found 'and'"],
    ['a..b exists', 3, 'invalid path: empty key before "."'],
    ['.a exists', 1, 'invalid path: empty key before "."'],
    ['a. exists', 2, 'invalid path: the path ends with "."'],
    ['a[*].b eq 1', 2, "'[*]' is not supported in condition paths: name one list item with [n]"],
    ['a[x] exists', 2, "'[x]' is not a list index: write [n], such as [0] or [-1]"],
    ['a[] exists', 2, "'[]' is not a list index"],
    ['a[0 exists', 2, 'invalid path: "[" is not closed by "]"'],
    ['a[0]b exists', 5, 'invalid path: expected "." or "["'],
    ['a]b exists', 2, 'invalid path: unexpected "]"'],
    ['user/name exists', 5, "'/' cannot appear in a path"],
    ['a!b eq 1', 2, "'!' cannot appear in a path"],
    ["a'b eq 1", 2, "''' cannot appear in a path"],
  ]);
});

describe('bad paths inside cross_field_compare', () => {
  expectErrors([
    [
      'a cross_field_compare "b..c"',
      26,
      'invalid path: empty key before "." (in the path of \'cross_field_compare\')',
    ],
    ['a cross_field_compare ""', 24, 'invalid path: the path is empty'],
    ['a cross_field_compare "b[*]"', 25, "'[*]' is not supported in condition paths"],
    ['a cross_field_compare "b c"', 25, "' ' cannot appear in a path"],
    // With an escape in the string the offsets no longer line up, so the error points at the string.
    ['a cross_field_compare "\\"b"', 23, "'\"' cannot appear in a path"],
  ]);
});

describe('bad regular expressions', () => {
  expectErrors([
    ['a matches "("', 11, /^invalid regular expression "\(": .*missing closing \)/],
    ['a matches "[a-"', 11, /^invalid regular expression "\[a-"/],
    ['a matches "(a)\\1"', 11, /^invalid regular expression/],
    ['a matches "(?=lookahead)"', 11, /^invalid regular expression/],
    ['x exists and a matches "x**"', 24, /^invalid regular expression "x\*\*"/],
  ]);

  it('refuses a pattern longer than the regex module allows', () => {
    const error = syntaxErrorOf(() => parseCondition(`a matches "${'a'.repeat(5000)}"`));
    expect(error.column).toBe(11);
    expect(error.reason).toMatch(/longer than 4096 characters/);
  });
});

describe('nesting depth', () => {
  it(`accepts ${MAX_NESTING} nested parentheses`, () => {
    const line = '('.repeat(MAX_NESTING) + 'a exists' + ')'.repeat(MAX_NESTING);
    expect(compileCondition(line)({ a: 1 })).toBe(true);
  });

  it('refuses one parenthesis more, pointing at it', () => {
    const line = '('.repeat(MAX_NESTING + 1) + 'a exists' + ')'.repeat(MAX_NESTING + 1);
    const error = syntaxErrorOf(() => parseCondition(line));
    expect(error.column).toBe(MAX_NESTING + 1);
    expect(error.reason).toBe(`nested more than ${MAX_NESTING} levels deep (parentheses and 'not')`);
  });

  it('counts not towards the same limit', () => {
    // An even number of nots cancels out.
    expect(compileCondition('not '.repeat(MAX_NESTING) + 'a exists')({ a: 1 })).toBe(true);
    const error = syntaxErrorOf(() => parseCondition('not '.repeat(MAX_NESTING + 1) + 'a exists'));
    expect(error.column).toBe(MAX_NESTING * 4 + 1);
  });

  it('refuses a very deep line with a syntax error, not a stack overflow', () => {
    const error = syntaxErrorOf(() => parseCondition('('.repeat(100_000)));
    expect(error.reason).toMatch(/nested more than/);
  });

  it('parses a very long flat chain without recursion trouble', () => {
    const line = Array.from({ length: 10_000 }, (_, index) => `f eq ${index}`).join(' or ');
    const predicate = compileCondition(line);
    expect(predicate({ f: 9_999 })).toBe(true);
    expect(predicate({ f: 10_000 })).toBe(false);
  });
});

describe('the error object', () => {
  it('is a ConditionSyntaxError with a message that places the error', () => {
    const error = syntaxErrorOf(() => compileCondition('a eq'));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConditionSyntaxError');
    expect(error.message).toBe("condition line 1, column 5: missing value after 'eq'");
  });

  it('names the line of a list that is wrong, by 0-based index', () => {
    const error = syntaxErrorOf(() => compileConditionLines(['a exists', 'b exists', 'c eq']));
    expect(error.lineIndex).toBe(2);
    expect(error.column).toBe(5);
    expect(error.message).toBe("condition line 3, column 5: missing value after 'eq'");
  });

  it('reports the first bad line when several are bad', () => {
    const error = syntaxErrorOf(() => compileConditionLines(['a exists', 'b eq', 'c eq']));
    expect(error.lineIndex).toBe(1);
  });

  it('refuses an empty list of lines (it would match every event)', () => {
    const error = syntaxErrorOf(() => compileConditionLines([]));
    expect(error.reason).toBe('the condition has no lines');
    expect(error.lineIndex).toBe(0);
  });

  it('refuses a line that is not a string, as YAML may hand over', () => {
    const lines = ['a exists', 42] as unknown as string[];
    const error = syntaxErrorOf(() => compileConditionLines(lines));
    expect(error.lineIndex).toBe(1);
    expect(error.reason).toBe('a condition line must be a string');
  });

  it('quotes at most 40 characters of a long word', () => {
    const error = syntaxErrorOf(() => parseCondition(`a ${'x'.repeat(100)} 1`));
    expect(error.reason).toBe(
      `unknown operator '${'x'.repeat(40)}…'; expected one of eq, ne, contains, not contains, in, not in, startswith, endswith, matches, gt, gte, lt, lte, exists, not exists, is_null, is_not_null, cross_field_compare`,
    );
  });
});
