// Writing to stdout with backpressure, so that piping a large result into a slow reader never buffers
// it all in memory.
import type { Writable } from 'node:stream';
import { formatDiagnostic, type Diagnostic } from '../engine/diagnostics.js';

export function write(stream: Writable, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve) => stream.once('drain', resolve));
}

export function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const diagnostic of diagnostics) process.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
}

export const DEFAULT_RULE_PATHS = ['rules'];
