// Parser for one line of the catalogue condition language. It is a recursive descent over the
// characters themselves rather than over a token list, because what a `[` starts (a list index in
// a path, or a list value) depends on where in the comparison it stands.
import { parseKeyPath, PathSyntaxError } from '../paths.js';
import { compileRegex, RegexSyntaxError } from '../regex.js';
import type {
  ComparisonNode,
  ConditionNode,
  ConditionOperator,
  ConditionScalar,
  PresenceOperator,
} from './ast.js';
import { ConditionSyntaxError } from './errors.js';

/** Deepest nesting of parentheses and `not`; bounds the recursion of the parser and of the predicates. */
export const MAX_NESTING = 64;

export const CONDITION_OPERATORS: readonly ConditionOperator[] = [
  'eq',
  'ne',
  'contains',
  'not contains',
  'in',
  'not in',
  'startswith',
  'endswith',
  'matches',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'not exists',
  'is_null',
  'is_not_null',
  'cross_field_compare',
];

const ONE_WORD_OPERATORS: ReadonlySet<string> = new Set(
  CONDITION_OPERATORS.filter((op) => !op.includes(' ')),
);

/** What may follow `not` after a path: `not contains`, `not in`, `not exists`. */
const NEGATABLE_OPERATORS: ReadonlySet<string> = new Set(['contains', 'in', 'exists']);

/** What to write instead of a list after `eq` or `ne`. */
const LIST_ALTERNATIVES: ReadonlyMap<string, string> = new Map([
  ['eq', 'in'],
  ['ne', 'not in'],
]);

/** Symbols and near-misses people write out of habit, with the operator they meant. */
const OPERATOR_SUGGESTIONS: ReadonlyMap<string, string> = new Map([
  ['=', 'eq'],
  ['==', 'eq'],
  ['!=', 'ne'],
  ['<>', 'ne'],
  ['>', 'gt'],
  ['>=', 'gte'],
  ['<', 'lt'],
  ['<=', 'lte'],
  ['=~', 'matches'],
  ['equals', 'eq'],
  ['contain', 'contains'],
  ['startsWith', 'startswith'],
  ['endsWith', 'endswith'],
  ['match', 'matches'],
  ['isnull', 'is_null'],
  ['is_not', 'is_not_null'],
]);

/** Python spellings of the literals, which the catalogue's authors may carry over. */
const LITERAL_SUGGESTIONS: ReadonlyMap<string, string> = new Map([
  ['True', 'true'],
  ['False', 'false'],
  ['None', 'null'],
]);

/** Characters a path key may hold, besides the `.` and `[n]` that structure the path. */
const PATH_KEY_CHAR = /^[\p{L}\p{N}_\-@$:]$/u;
/** Characters that end a bare word (a keyword, an operator, a literal): whitespace and punctuation. */
const WORD_END = /[\s()[\]",]/;
/** Characters that end a path; `[` and `]` belong to it (`items[0]`). */
const PATH_END = /[\s()",]/;
const WHITESPACE = /\s/;
const NUMBER_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const DIGIT = /^\d$/;
const LIST_INDEX = /^-?\d+$/;
const LONGEST_QUOTED_WORD = 40;
const CROSS_FIELD_VALUE = `'cross_field_compare' takes a quoted path such as "userIdentity.accountId"`;

/** Parses one condition line; errors name `lineIndex` so a list of lines reports the right one. */
export function parseConditionLine(text: string, lineIndex: number): ConditionNode {
  return new LineParser(text, lineIndex).parseLine();
}

type ParsedValue =
  | { readonly kind: 'scalar'; readonly value: ConditionScalar }
  | { readonly kind: 'list'; readonly values: readonly ConditionScalar[] };

class LineParser {
  /** 0-based position of the next character to read. */
  private index = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly lineIndex: number,
  ) {}

  parseLine(): ConditionNode {
    this.skipSpace();
    if (this.atEnd()) throw this.error('the condition line is empty', 0);
    const node = this.parseOr();
    this.skipSpace();
    if (this.atEnd()) return node;
    if (this.char() === ')') throw this.error("unbalanced ')': there is no '(' for it to close", this.index);
    throw this.error(`expected 'and', 'or' or the end of the line, found ${this.describeHere()}`, this.index);
  }

  private parseOr(): ConditionNode {
    const first = this.parseAnd();
    const rest: ConditionNode[] = [];
    while (this.acceptWord('or')) rest.push(this.parseAnd());
    return rest.length === 0 ? first : { kind: 'or', operands: [first, ...rest] };
  }

  private parseAnd(): ConditionNode {
    const first = this.parseNot();
    const rest: ConditionNode[] = [];
    while (this.acceptWord('and')) rest.push(this.parseNot());
    return rest.length === 0 ? first : { kind: 'and', operands: [first, ...rest] };
  }

  private parseNot(): ConditionNode {
    this.skipSpace();
    const start = this.index;
    if (!this.acceptWord('not')) return this.parsePrimary();
    this.enterNesting(start);
    const operand = this.parseNot();
    this.depth -= 1;
    return { kind: 'not', operand };
  }

  private parsePrimary(): ConditionNode {
    this.skipSpace();
    const open = this.index;
    if (this.char() !== '(') return this.parseComparison();
    this.index += 1;
    this.enterNesting(open);
    const inner = this.parseOr();
    this.depth -= 1;
    this.skipSpace();
    if (this.char() === ')') {
      this.index += 1;
      return inner;
    }
    if (this.atEnd()) throw this.error(`unbalanced '(': it is never closed`, open);
    throw this.error(`expected 'and', 'or' or ')', found ${this.describeHere()}`, this.index);
  }

  private parseComparison(): ComparisonNode {
    const pathStart = this.index;
    const path = this.readPath();
    const column = pathStart + 1;
    const operator = this.parseOperator(path);

    if (isPresenceOperator(operator)) {
      this.refuseValue(operator);
      return { kind: 'comparison', path, column, operator };
    }

    this.skipSpace();
    const valueStart = this.index;
    if (operator === 'cross_field_compare' && !this.atEnd() && this.char() !== '"') {
      throw this.error(CROSS_FIELD_VALUE, valueStart);
    }
    const parsed = this.parseValue(operator);
    const scalar = parsed.kind === 'scalar' ? parsed.value : undefined;
    switch (operator) {
      case 'eq':
      case 'ne':
      case 'contains':
      case 'not contains':
        if (parsed.kind === 'list') {
          const alternative = LIST_ALTERNATIVES.get(operator);
          const hint = alternative === undefined ? '' : `; use '${alternative}'`;
          throw this.error(`'${operator}' takes one value, not a list${hint}`, valueStart);
        }
        return { kind: 'comparison', path, column, operator, value: parsed.value };
      case 'in':
      case 'not in':
        if (parsed.kind !== 'list') {
          throw this.error(`'${operator}' needs a list such as ["a", "b"]`, valueStart);
        }
        return { kind: 'comparison', path, column, operator, value: parsed.values };
      case 'startswith':
      case 'endswith':
        if (typeof scalar !== 'string') throw this.error(`'${operator}' needs a quoted string`, valueStart);
        return { kind: 'comparison', path, column, operator, value: scalar };
      case 'matches':
        if (typeof scalar !== 'string') {
          throw this.error(`'matches' needs a regular expression in a quoted string`, valueStart);
        }
        this.checkRegex(scalar, valueStart);
        return { kind: 'comparison', path, column, operator, value: scalar };
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (typeof scalar !== 'string' && typeof scalar !== 'number') {
          throw this.error(`'${operator}' compares with a number or a quoted string`, valueStart);
        }
        return { kind: 'comparison', path, column, operator, value: scalar };
      case 'cross_field_compare':
        if (typeof scalar !== 'string') throw this.error(CROSS_FIELD_VALUE, valueStart);
        this.checkQuotedPath(scalar, valueStart);
        return { kind: 'comparison', path, column, operator, value: scalar };
    }
  }

  /** Reads and checks the path that starts a comparison. */
  private readPath(): string {
    const start = this.index;
    if (this.atEnd()) throw this.error('expected a condition, found the end of the line', start);
    const first = this.char();
    if (first === '"') {
      throw this.error('expected a path, found a string (paths are written without quotes)', start);
    }
    if (PATH_END.test(first)) throw this.error(`expected a condition, found '${first}'`, start);
    while (!this.atEnd() && !PATH_END.test(this.char())) this.index += 1;
    const path = this.text.slice(start, this.index);
    if (path === 'and' || path === 'or') throw this.error(`expected a condition, found '${path}'`, start);
    const problem = findPathProblem(path);
    if (problem) throw this.error(problem.reason, start + problem.offset);
    return path;
  }

  private parseOperator(path: string): ConditionOperator {
    this.skipSpace();
    const start = this.index;
    if (this.atEnd()) throw this.error(`missing operator after '${shorten(path)}'`, start);
    const word = this.peekWord();
    if (word === '') {
      throw this.error(`expected an operator after the path, found ${this.describeHere()}`, start);
    }
    this.index += word.length;
    if (word === 'not') {
      this.skipSpace();
      const next = this.peekWord();
      if (NEGATABLE_OPERATORS.has(next)) {
        this.index += next.length;
        return `not ${next}` as ConditionOperator;
      }
      throw this.error(
        `'not' after a path must be followed by 'contains', 'in' or 'exists', found ${this.describeHere()}` +
          ' (to negate another operator, write not (path op value))',
        this.index,
      );
    }
    if (ONE_WORD_OPERATORS.has(word)) return word as ConditionOperator;
    throw this.error(`unknown operator '${shorten(word)}'${operatorHint(word)}`, start);
  }

  /** The presence operators take no value; say so rather than report "trailing input". */
  private refuseValue(operator: string): void {
    this.skipSpace();
    const next = this.char();
    const word = this.peekWord();
    const looksLikeValue =
      next === '"' ||
      next === "'" ||
      next === '[' ||
      next === '-' ||
      DIGIT.test(next) ||
      word === 'true' ||
      word === 'false' ||
      word === 'null';
    if (looksLikeValue) throw this.error(`'${operator}' takes no value`, this.index);
  }

  private parseValue(operator: string): ParsedValue {
    if (this.atEnd()) throw this.error(`missing value after '${operator}'`, this.index);
    if (this.char() === '[') return { kind: 'list', values: this.parseList() };
    return { kind: 'scalar', value: this.parseScalar(`after '${operator}'`) };
  }

  private parseList(): ConditionScalar[] {
    const open = this.index;
    this.index += 1;
    const values: ConditionScalar[] = [];
    this.skipSpace();
    if (this.char() === ']') {
      this.index += 1;
      return values;
    }
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) throw this.error(`unbalanced '[': the list is never closed`, open);
      if (this.char() === '[') {
        throw this.error('a list holds strings, numbers, true, false or null, not other lists', this.index);
      }
      values.push(this.parseScalar('in the list'));
      this.skipSpace();
      const next = this.char();
      if (next === ']') {
        this.index += 1;
        return values;
      }
      if (next === ',') {
        this.index += 1;
        this.skipSpace();
        if (this.char() === ']') {
          throw this.error("expected a value after ',' (no trailing comma)", this.index);
        }
        continue;
      }
      if (this.atEnd()) throw this.error(`unbalanced '[': the list is never closed`, open);
      throw this.error(`expected ',' or ']' in the list, found ${this.describeHere()}`, this.index);
    }
  }

  /** A string, a number, `true`, `false` or `null`; `where` completes the error messages. */
  private parseScalar(where: string): ConditionScalar {
    const start = this.index;
    const first = this.char();
    if (first === '"') return this.parseString();
    if (first === "'") throw this.error('strings are written in double quotes', start);
    const word = this.peekWord();
    if (first === '-' || DIGIT.test(first)) return this.parseNumber(word);
    if (word === 'true') return this.takeWord(word, true);
    if (word === 'false') return this.takeWord(word, false);
    if (word === 'null') return this.takeWord(word, null);
    if (word === 'and' || word === 'or') throw this.error(`missing value ${where}, found '${word}'`, start);
    const literal = LITERAL_SUGGESTIONS.get(word);
    if (literal !== undefined) {
      throw this.error(`expected a value ${where}, found '${word}' (write ${literal})`, start);
    }
    if (word !== '') {
      throw this.error(
        `expected a value ${where}, found '${shorten(word)}' (strings are written in double quotes)`,
        start,
      );
    }
    throw this.error(`expected a value ${where}, found ${this.describeHere()}`, start);
  }

  /**
   * `\"` and `\\` are the only escapes. Any other backslash is kept as written, so regular
   * expressions such as "\d+\.\d+" need no doubling (and doubled ones, "\\d", still work).
   */
  private parseString(): string {
    const open = this.index;
    this.index += 1;
    let value = '';
    let chunkStart = this.index;
    while (!this.atEnd()) {
      const char = this.char();
      if (char === '"') {
        value += this.text.slice(chunkStart, this.index);
        this.index += 1;
        return value;
      }
      if (char === '\\') {
        const escaped = this.text[this.index + 1];
        if (escaped === '"' || escaped === '\\') {
          value += this.text.slice(chunkStart, this.index) + escaped;
          this.index += 2;
          chunkStart = this.index;
          continue;
        }
      }
      this.index += 1;
    }
    throw this.error('unterminated string: the closing " is missing', open);
  }

  private parseNumber(word: string): number {
    const start = this.index;
    if (!NUMBER_TEXT.test(word)) throw this.error(`invalid number '${shorten(word)}'`, start);
    const value = Number(word);
    if (!Number.isFinite(value)) throw this.error(`number '${shorten(word)}' is too large`, start);
    this.index += word.length;
    return value;
  }

  private checkRegex(pattern: string, valueStart: number): void {
    try {
      compileRegex(pattern);
    } catch (error) {
      if (error instanceof RegexSyntaxError) throw this.error(error.message, valueStart);
      throw error;
    }
  }

  private checkQuotedPath(path: string, valueStart: number): void {
    const problem = findPathProblem(path);
    if (!problem) return;
    // Point into the string when its text is the path as written; escapes would shift the offsets.
    const written = this.text.slice(valueStart + 1, this.index - 1);
    const index = written === path ? valueStart + 1 + problem.offset : valueStart;
    throw this.error(`${problem.reason} (in the path of 'cross_field_compare')`, index);
  }

  private enterNesting(start: number): void {
    this.depth += 1;
    if (this.depth > MAX_NESTING) {
      throw this.error(`nested more than ${MAX_NESTING} levels deep (parentheses and 'not')`, start);
    }
  }

  private takeWord<T>(word: string, value: T): T {
    this.index += word.length;
    return value;
  }

  /** Consumes `word` when it stands next, as a whole word. */
  private acceptWord(word: string): boolean {
    this.skipSpace();
    if (this.peekWord() !== word) return false;
    this.index += word.length;
    return true;
  }

  /** The bare word at the current position, or '' when a punctuation character stands there. */
  private peekWord(): string {
    let end = this.index;
    while (end < this.text.length && !WORD_END.test(this.text.charAt(end))) end += 1;
    return this.text.slice(this.index, end);
  }

  /** How the token at the current position reads in an error message. */
  private describeHere(): string {
    if (this.atEnd()) return 'the end of the line';
    const char = this.char();
    if (char === '"') return 'a string';
    const word = this.peekWord();
    if (word === '') return `'${char}'`;
    const lower = word.toLowerCase();
    const caseHint =
      lower !== word && ['and', 'or', 'not'].includes(lower) ? ' (keywords are lower case)' : '';
    return `'${shorten(word)}'${caseHint}`;
  }

  private skipSpace(): void {
    while (this.index < this.text.length && WHITESPACE.test(this.text.charAt(this.index))) this.index += 1;
  }

  /** The current character, or '' at the end of the line. */
  private char(): string {
    return this.text.charAt(this.index);
  }

  private atEnd(): boolean {
    return this.index >= this.text.length;
  }

  private error(reason: string, index: number): ConditionSyntaxError {
    return new ConditionSyntaxError(reason, this.lineIndex, index + 1);
  }
}

/** Checks a path's characters and structure; returns what is wrong and its 0-based offset. */
function findPathProblem(path: string): { reason: string; offset: number } | undefined {
  let offset = 0;
  let subscriptStart = -1;
  // Iterates by code point so that a letter outside the BMP is one character, not two halves.
  for (const char of path) {
    if (subscriptStart >= 0) {
      if (char === ']') {
        const problem = subscriptProblem(path.slice(subscriptStart + 1, offset));
        if (problem) return { reason: problem, offset: subscriptStart };
        subscriptStart = -1;
      }
    } else if (char === '[') {
      subscriptStart = offset;
    } else if (char !== '.' && char !== ']' && !PATH_KEY_CHAR.test(char)) {
      return { reason: `'${char}' cannot appear in a path${pathCharHint(char)}`, offset };
    }
    offset += char.length;
  }
  // What is left is structure (empty keys, a stray "]", an unclosed "["): the paths module judges it.
  try {
    parseKeyPath(path, { allowWildcard: false });
  } catch (error) {
    if (error instanceof PathSyntaxError) {
      return { reason: `invalid path: ${error.message}`, offset: error.offset };
    }
    throw error;
  }
  return undefined;
}

function subscriptProblem(inside: string): string | undefined {
  if (inside === '*') return "'[*]' is not supported in condition paths: name one list item with [n]";
  if (!LIST_INDEX.test(inside)) {
    return `'[${shorten(inside)}]' is not a list index: write [n], such as [0] or [-1]`;
  }
  return undefined;
}

function isPresenceOperator(operator: ConditionOperator): operator is PresenceOperator {
  return (
    operator === 'exists' || operator === 'not exists' || operator === 'is_null' || operator === 'is_not_null'
  );
}

function pathCharHint(char: string): string {
  return '=!<>~'.includes(char)
    ? ' (operators are words such as eq, separated from the path by a space)'
    : '';
}

function operatorHint(word: string): string {
  const suggestion = OPERATOR_SUGGESTIONS.get(word);
  if (suggestion !== undefined) return ` (use '${suggestion}')`;
  const lower = word.toLowerCase();
  if (lower !== word && ONE_WORD_OPERATORS.has(lower)) return ` (operators are lower case: '${lower}')`;
  return `; expected one of ${CONDITION_OPERATORS.join(', ')}`;
}

function shorten(text: string): string {
  return text.length <= LONGEST_QUOTED_WORD ? text : `${text.slice(0, LONGEST_QUOTED_WORD)}…`;
}
