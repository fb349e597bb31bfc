/** A condition line that cannot be parsed; says which line, where in it, and why. */
export class ConditionSyntaxError extends Error {
  constructor(
    /** What is wrong, without the position (for callers that report the position themselves). */
    readonly reason: string,
    /** 0-based index into the list of condition lines. */
    readonly lineIndex: number,
    /** 1-based column within that line's text; the end of the line is its length + 1. */
    readonly column: number,
  ) {
    super(`condition line ${lineIndex + 1}, column ${column}: ${reason}`);
    this.name = 'ConditionSyntaxError';
  }
}
