// WAL checkpoints of an SQLite file on a thread of their own. SQLite's automatic checkpoint runs inside
// the COMMIT that crosses 1,000 pages of WAL: it copies them into the database file and syncs both files,
// tens of milliseconds during which the event loop (better-sqlite3 is synchronous) answers nothing. Here
// the writer's automatic checkpoint is only a backstop far above that, and after a commit, once a pause
// since the last checkpoint has passed, a worker thread runs a PASSIVE checkpoint on a connection of its
// own: it copies what no reader still needs without waiting for anyone, beside the writes that go on.
// The pause adapts so that a checkpoint finds about as much WAL as SQLite's own would (1,000 to 2,000
// pages): each one lets the writer start the WAL over, which costs a sync of its header in a COMMIT.
import { Logger } from '@nestjs/common';
import type { Database as SqliteConnection } from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The pause from the end of one checkpoint to the start of the next: first, least and most. */
const FIRST_PAUSE_MS = 250;
const LEAST_PAUSE_MS = 100;
const MOST_PAUSE_MS = 4000;
/** Pages of WAL a checkpoint should find: fewer, and the pause doubles; over twice as many, it halves. */
const PAGES_PER_CHECKPOINT = 1000;
/** The writer checkpoints by itself past this many pages (40 MB of 4 kB pages): should the thread lag. */
const BACKSTOP_PAGES = 10_000;

/** The worker: a connection of its own, one PASSIVE checkpoint per message, its outcome sent back. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const connection = new Database(workerData.file, { fileMustExist: true });
connection.pragma('busy_timeout = 0');
parentPort.on('message', () => {
  try {
    const [outcome] = connection.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, pages: outcome.log });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error && error.message || error) });
  }
});
`;

export class SqliteCheckpointer {
  private readonly logger = new Logger('Storage');
  private worker: Worker | undefined;
  private running = false;
  private closed = false;
  /** The first checkpoint waits as long after the start as any other after the last (short-lived uses need none). */
  private lastEnded = performance.now();
  private pauseMs = FIRST_PAUSE_MS;

  constructor(
    private readonly file: string,
    writer: SqliteConnection,
  ) {
    writer.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  }

  /** Told after each commit: starts a checkpoint unless one is running or the last ended just now. */
  committed(): void {
    if (this.closed || this.running || performance.now() - this.lastEnded < this.pauseMs) return;
    this.running = true;
    this.start().postMessage('checkpoint');
  }

  /** Ends the thread (its connection with it); the writer's backstop checkpoints from then on. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    // It never keeps the process alive: a checkpoint cut short by the exit is no harm to the file.
    worker.unref();
    worker.on('message', (outcome: { ok: boolean; pages?: number; error?: string }) => {
      this.running = false;
      this.lastEnded = performance.now();
      const pages = outcome.pages ?? 0;
      if (pages < PAGES_PER_CHECKPOINT) this.pauseMs = Math.min(this.pauseMs * 2, MOST_PAUSE_MS);
      else if (pages > 2 * PAGES_PER_CHECKPOINT) this.pauseMs = Math.max(this.pauseMs / 2, LEAST_PAUSE_MS);
      if (!outcome.ok)
        this.logger.warn(`a WAL checkpoint failed (the next one tries again): ${outcome.error ?? ''}`);
    });
    worker.on('error', (error) => {
      this.logger.warn(
        `the WAL checkpoint thread stopped (${error.message}); the writer checkpoints by itself`,
      );
      this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }
}
