// When ingest's hits call for a fresh ANALYZE on PostgreSQL: after the first 1,000, then whenever they
// have doubled, never two at once, and a failed one is only logged.
import { describe, expect, it } from 'vitest';
import { MIN_ROWS_BETWEEN_ANALYZES, TableStatistics } from './table-statistics.js';

/** An ANALYZE that finishes when the test says so. */
function controlledAnalyze() {
  const calls: { finish: () => void; fail: (error: Error) => void }[] = [];
  const analyze = () => new Promise<void>((resolve, reject) => calls.push({ finish: resolve, fail: reject }));
  return { calls, analyze };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TableStatistics', () => {
  it('analyzes after the first 1,000 rows, then whenever they have doubled, one ANALYZE at a time', async () => {
    const { calls, analyze } = controlledAnalyze();
    const statistics = new TableStatistics(analyze);
    statistics.noteWritten(MIN_ROWS_BETWEEN_ANALYZES - 1);
    expect(calls).toHaveLength(0);
    statistics.noteWritten(1);
    expect(calls).toHaveLength(1);
    // While it runs, more rows start nothing.
    statistics.noteWritten(5000);
    expect(calls).toHaveLength(1);
    calls[0]?.finish();
    await settle();
    // 6,000 written, 1,000 at the last ANALYZE: the next row asks for another.
    statistics.noteWritten(1);
    expect(calls).toHaveLength(2);
    calls[1]?.finish();
    await settle();
    // 6,001 at the last one: not before 6,001 more.
    statistics.noteWritten(6000);
    expect(calls).toHaveLength(2);
    statistics.noteWritten(1);
    expect(calls).toHaveLength(3);
    calls[2]?.finish();
    await settle();
    // 12,002 at the last one.
    statistics.noteWritten(12_001);
    expect(calls).toHaveLength(3);
    statistics.noteWritten(1);
    expect(calls).toHaveLength(4);
  });

  it('keeps going after an ANALYZE that failed: it tries again once the rows have doubled', async () => {
    const { calls, analyze } = controlledAnalyze();
    const statistics = new TableStatistics(analyze);
    statistics.noteWritten(2000);
    calls[0]?.fail(new Error('connection lost'));
    await settle();
    statistics.noteWritten(1999);
    expect(calls).toHaveLength(1);
    statistics.noteWritten(1);
    expect(calls).toHaveLength(2);
  });
});
