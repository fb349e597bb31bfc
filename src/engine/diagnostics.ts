// What the engine says about a rule file: every problem names the key, the file, the line and column.

export type DiagnosticSeverity = 'error' | 'warning';

export interface Diagnostic {
  severity: DiagnosticSeverity;
  /** Stable machine-readable code, e.g. `unknown_key`, `wrong_type`, `condition_syntax`. */
  code: string;
  message: string;
  /** The offending key as a path into the document, e.g. `Detection[1].Extra`. */
  key?: string;
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
}

export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = [diagnostic.file, diagnostic.line, diagnostic.column]
    .filter((part) => part !== undefined)
    .join(':');
  const key = diagnostic.key !== undefined ? ` [${diagnostic.key}]` : '';
  return `${where ? `${where}: ` : ''}${diagnostic.severity}: ${diagnostic.message}${key}`;
}

/** Thrown when a rule source cannot be used; carries every error found, not only the first. */
export class RuleLoadError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n') || 'invalid rule');
    this.name = 'RuleLoadError';
  }
}
