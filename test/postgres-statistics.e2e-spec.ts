// On PostgreSQL, a burst of ingest keeps the tables' statistics fresh: once 1,000 hits are stored, the
// service analyzes hits, hit_fields and alerts itself rather than leave the queries planned on none
// until autovacuum's next round (src/storage/table-statistics.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedExternalPrincipalAccess } from './fixtures/seed-events.js';
import { bearer, newDatabase, removeDatabase, rows, startApp, type RunningApp } from './support/app.js';

const HITS = 1100;

describe('PostgreSQL statistics after a burst of ingest', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ databaseUrl: await newDatabase('postgres') });
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('analyzes the hit tables once 1,000 hits are stored', async () => {
    const analyzed = async () =>
      rows<{ relname: string; analyzed: boolean }>(
        running,
        `SELECT relname, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables
         WHERE relname IN ('hits', 'hit_fields', 'alerts') ORDER BY relname`,
      );
    expect((await analyzed()).every((table) => !table.analyzed)).toBe(true);

    // Each event a hit of the seed rule of its own (distinct event ids).
    const events = Array.from({ length: HITS }, (_, index) => ({
      ...seedExternalPrincipalAccess(),
      eventID: `statistics-${index}`,
    }));
    const response = await fetch(`${running.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify(events),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ accepted: HITS, hits: HITS });

    // The ANALYZE runs beside the requests, after the batch: wait for it to have happened.
    while (!(await analyzed()).every((table) => table.analyzed))
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await analyzed()).toEqual([
      { relname: 'alerts', analyzed: true },
      { relname: 'hit_fields', analyzed: true },
      { relname: 'hits', analyzed: true },
    ]);
  });
});
