// What the benchmark prints and writes: one row per part, and the correctness checks.

export interface PartResult {
  part: string;
  measured: string;
  floor: string;
  ratio: number | undefined;
  target: string;
  /** undefined: not measured (no figure to judge). */
  pass: boolean | undefined;
  /** A line printed under the table. */
  note?: string;
  details: Record<string, unknown>;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A progress line writer for a benchmark's stderr, each line stamped with the seconds since it began. */
export function progressLog(started = Date.now()): (message: string) => void {
  return (message) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

export const count = (value: number): string => Math.round(value).toLocaleString('en-US');

/** The middle value; with an even number of values, the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A part whose figure is a rate and whose target is a share of its floor's rate. */
export function ratioPart(figures: {
  part: string;
  measured: number;
  unit: string;
  floor: number;
  /** What the floor counts and is, e.g. `hit rows/s (bare SQLite)`. */
  floorLabel: string;
  target: number;
  note?: string;
  details: Record<string, unknown>;
}): PartResult {
  const ratio = figures.measured / figures.floor;
  return {
    part: figures.part,
    measured: `${count(figures.measured)} ${figures.unit}`,
    floor: `${count(figures.floor)} ${figures.floorLabel}`,
    ratio,
    target: `≥ ${figures.target.toFixed(2)}`,
    pass: ratio >= figures.target,
    ...(figures.note === undefined ? {} : { note: figures.note }),
    details: figures.details,
  };
}

/** A Markdown table, padded so that it also reads well in a terminal. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

/** The parts as a table. */
export function table(parts: readonly PartResult[]): string {
  return markdownTable(
    ['part', 'measured', 'floor', 'ratio', 'target', 'result'],
    parts.map((part) => [
      part.part,
      part.measured,
      part.floor,
      part.ratio === undefined ? '—' : part.ratio.toFixed(2),
      part.target,
      part.pass === undefined ? 'n/a' : part.pass ? 'PASS' : 'FAIL',
    ]),
  );
}
