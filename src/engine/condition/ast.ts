// The parsed form of one condition line. Plain data (no functions, no compiled regexes), so a
// prefilter or a linter can read it and tests can compare it with `toEqual`.

/** A literal written in a condition: a double-quoted string, a number, `true`, `false` or `null`. */
export type ConditionScalar = string | number | boolean | null;

/** Operators that compare the field with one scalar. */
export type ScalarOperator = 'eq' | 'ne' | 'contains' | 'not contains';
/** Operators that take a list such as `["Root", "IAMUser"]`. */
export type ListOperator = 'in' | 'not in';
/** Operators that only hold on string fields and take a string. */
export type TextOperator = 'startswith' | 'endswith' | 'matches';
/** Ordering operators: they take a number or a string. */
export type OrderOperator = 'gt' | 'gte' | 'lt' | 'lte';
/** Operators that look only at whether the field is there; they take no value. */
export type PresenceOperator = 'exists' | 'not exists' | 'is_null' | 'is_not_null';

export type ConditionOperator =
  ScalarOperator | ListOperator | TextOperator | OrderOperator | PresenceOperator | 'cross_field_compare';

interface ComparisonBase {
  readonly kind: 'comparison';
  /** The field, as written: dotted keys with `[n]` list indexes. */
  readonly path: string;
  /** 1-based column of the path in the line. */
  readonly column: number;
}

export type ComparisonNode =
  | (ComparisonBase & { readonly operator: ScalarOperator; readonly value: ConditionScalar })
  | (ComparisonBase & { readonly operator: ListOperator; readonly value: readonly ConditionScalar[] })
  | (ComparisonBase & { readonly operator: TextOperator; readonly value: string })
  | (ComparisonBase & { readonly operator: OrderOperator; readonly value: number | string })
  | (ComparisonBase & { readonly operator: PresenceOperator })
  /** `value` is the other field's path, already checked to be a valid path. */
  | (ComparisonBase & { readonly operator: 'cross_field_compare'; readonly value: string });

/** `a and b and c` is one node with three operands, not a nested pair. */
export interface AndNode {
  readonly kind: 'and';
  readonly operands: readonly ConditionNode[];
}

export interface OrNode {
  readonly kind: 'or';
  readonly operands: readonly ConditionNode[];
}

export interface NotNode {
  readonly kind: 'not';
  readonly operand: ConditionNode;
}

export type ConditionNode = AndNode | OrNode | NotNode | ComparisonNode;
