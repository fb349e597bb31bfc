/**
 * The catalogue condition language: the `Condition:` detection of a rule, as printed under
 * "Detection logic" in the catalogue. A condition is a list of lines that must all
 * hold; each line is a boolean expression such as
 *
 *     not (eventType ne "AwsVpceEvent" or eventCategory ne "NetworkActivity")
 *     recipientAccountId cross_field_compare "userIdentity.accountId"
 *
 * Syntax
 * - `not` binds tighter than `and`, which binds tighter than `or`; parentheses group. Keywords and
 *   operators are lower case and recognised as whole words (`AND`, `EQ` are errors that say so).
 * - A comparison is `path operator [value]`. A path is dotted keys with `[n]` list indexes
 *   (`[-1]` counts from the end); keys hold letters, digits, `_`, `-`, `@`, `$` and `:`. `[*]` is
 *   refused: the language has no "any element" semantics, and a wildcard read yields a list that
 *   no operator would compare the way the author meant.
 * - Values: double-quoted strings, numbers (`42`, `-1.5`, `1e3`), `true`, `false`, `null`, and lists
 *   of those (`["Root", "IAMUser"]`, `[]`). In strings only `\"` and `\\` are escapes; any other
 *   backslash stays as written, so regular expressions such as `"\d+\.\d+"` read naturally.
 * - Which value an operator takes is checked when parsing: `in`/`not in` need a list; `eq`, `ne`,
 *   `contains`, `not contains` one scalar; `startswith`, `endswith`, `matches` a string (the pattern
 *   must compile under RE2, which has no backreferences or lookaround); `gt`, `gte`, `lt`, `lte` a
 *   number or a string; `cross_field_compare` a quoted path; `exists`, `not exists`, `is_null`,
 *   `is_not_null` no value.
 * - Columns in errors count UTF-16 units from 1; an error at the end of a line has column length + 1.
 *   Parentheses and `not` nest at most {@link MAX_NESTING} deep.
 *
 * Semantics (a missing path reads as Python's None, i.e. null; never throws, whatever the event)
 * - `eq`: equal by JSON value; `1` equals `1.0`, strings compare exactly, `"1"` is not `1`, and
 *   booleans are not numbers (`true` does not equal `1`, unlike Python: events are JSON, where they
 *   are different values). `eq null` holds for missing or null. `ne` is exactly `not eq`, so it
 *   holds when the field is missing.
 * - `contains`: a key of an object, a substring of a string (a string needle only; `""` is in every
 *   string), an element of a list; false on missing, null, numbers and booleans. `not contains` is
 *   its negation, so it holds on those.
 * - `in`: the field is an element of the list; `not in` is its negation. As with `eq`, a missing
 *   field reads as null, so `x in ["a", null]` holds when `x` is missing, and `x in ["a"]` does not.
 * - `startswith`, `endswith`, `matches`: string fields only. `matches` is Python's `re.search`
 *   (unanchored) on RE2, linear in the input.
 * - `gt`, `gte`, `lt`, `lte`: a number compares with number fields and with strings holding a
 *   decimal number (`"42"`, `" -1.5 "`; not `"inf"`, `"0x10"`, `""`); a string compares with string
 *   fields by code point. Anything else is false.
 * - `exists`: the key is there, even if null; `not exists`: it is not.
 * - `is_null`: missing or null. `is_not_null`: present, not null and not `""`. So `""` is neither.
 * - `cross_field_compare "other.path"`: both fields present, not null, and different by JSON value.
 *   Two values nested too deep to compare count as equal (the comparison does not hold).
 */
import { compileConditionNode, allOf, type EventPredicate } from './compile.js';
import { ConditionSyntaxError } from './errors.js';
import type { ConditionNode } from './ast.js';
import { parseConditionLine } from './parser.js';

export type { EventPredicate } from './compile.js';
export { ConditionSyntaxError } from './errors.js';
export { CONDITION_OPERATORS, MAX_NESTING } from './parser.js';
export { compileConditionNode } from './compile.js';
export type {
  AndNode,
  ComparisonNode,
  ConditionNode,
  ConditionOperator,
  ConditionScalar,
  ListOperator,
  NotNode,
  OrNode,
  OrderOperator,
  PresenceOperator,
  ScalarOperator,
  TextOperator,
} from './ast.js';

/** Parses one line into its syntax tree; throws ConditionSyntaxError (lineIndex 0). */
export function parseCondition(line: string): ConditionNode {
  return parseConditionLine(line, 0);
}

/** Compiles one line; throws ConditionSyntaxError (lineIndex 0). */
export function compileCondition(line: string): EventPredicate {
  return compileConditionNode(parseCondition(line));
}

/**
 * Parses every line (they must all hold: AND). Throws ConditionSyntaxError for the first bad line. An
 * empty list is refused too: a rule whose condition is vacuously true would fire on every event.
 */
export function parseConditionLines(lines: readonly string[]): ConditionNode[] {
  if (lines.length === 0) throw new ConditionSyntaxError('the condition has no lines', 0, 1);
  return lines.map((line: unknown, lineIndex) => {
    // Lines usually come straight from YAML, where a bare `- 42` is a number, not a string.
    if (typeof line !== 'string') {
      throw new ConditionSyntaxError('a condition line must be a string', lineIndex, 1);
    }
    return parseConditionLine(line, lineIndex);
  });
}

/** Every line must hold (AND); throws as parseConditionLines does. */
export function compileConditionLines(lines: readonly string[]): EventPredicate {
  return allOf(parseConditionLines(lines).map(compileConditionNode));
}
