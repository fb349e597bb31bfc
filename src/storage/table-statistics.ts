// PostgreSQL plans a page of hits from its statistics of the tables, and a table that a burst of ingest
// grew from nothing has none until autovacuum gets round to it (a minute or more later). Meanwhile
// `severity = 'Medium' … ORDER BY event_time DESC LIMIT 101` was planned for 114 rows and ran as a sort of
// all 7,146 Medium hits, 51 ms, against 0.2 ms once analyzed (bench:reads, 15,000 hits). So ingest counts
// the hits it stores here: after the first 1,000, and whenever they have doubled since the last ANALYZE,
// the tables that queries filter are analyzed again, in the background, one ANALYZE at a time. Doubling,
// not autovacuum's tenth: each ANALYZE takes CPU from ingest, and the planner scales what it knows by the
// table's current size anyway; what hurt was knowing nothing. SQLite plans these queries from their
// indexes alone and needs none of it.
import { Logger } from '@nestjs/common';

/** Rows written since the last ANALYZE that call for another: at least this many… */
export const MIN_ROWS_BETWEEN_ANALYZES = 1000;
/** …and at least as many as were written before it. */
const GROWTH_BETWEEN_ANALYZES = 1;

export class TableStatistics {
  private readonly logger = new Logger('Storage');
  private written = 0;
  /** `written` when the last ANALYZE began. */
  private writtenAtAnalyze = 0;
  private running: Promise<void> | undefined;

  constructor(
    /** Runs ANALYZE on the tables; outside any transaction. */
    private readonly analyze: () => Promise<void>,
  ) {}

  /** Rows stored by a unit of work (a heuristic: a unit of work that runs again counts twice). */
  noteWritten(rows: number): void {
    this.written += rows;
    const since = this.written - this.writtenAtAnalyze;
    if (
      this.running ||
      since < Math.max(MIN_ROWS_BETWEEN_ANALYZES, this.writtenAtAnalyze * GROWTH_BETWEEN_ANALYZES)
    )
      return;
    this.writtenAtAnalyze = this.written;
    this.running = this.analyze()
      .catch((error: unknown) => {
        // Tried again once the rows have doubled again; autovacuum still does it in its own time.
        this.logger.warn(
          `ANALYZE after ingest failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => {
        this.running = undefined;
      });
  }
}
