// Collects the problems of one rule document, each tied to a key path and so to a line and column.
import type { Diagnostic, DiagnosticSeverity } from '../diagnostics.js';
import type { SourceMap } from '../source-map.js';

export class Checker {
  readonly diagnostics: Diagnostic[] = [];

  constructor(readonly sourceMap: SourceMap) {}

  error(path: string, code: string, message: string): void {
    this.report('error', path, code, message);
  }

  warning(path: string, code: string, message: string): void {
    this.report('warning', path, code, message);
  }

  report(
    severity: DiagnosticSeverity,
    path: string,
    code: string,
    message: string,
    column?: number,
    line?: number,
  ): void {
    const position = this.sourceMap.locate(path);
    this.diagnostics.push({
      severity,
      code,
      message,
      key: path === '' ? undefined : path,
      file: this.sourceMap.file,
      line: line ?? position?.line,
      column: column ?? position?.column,
    });
  }

  get failed(): boolean {
    return this.diagnostics.some((diagnostic) => diagnostic.severity === 'error');
  }
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}
