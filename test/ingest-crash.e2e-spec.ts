// Durability: the server is killed (SIGKILL) in the middle of a stream of POSTs. After a restart, every
// batch that was answered 2xx is there in full, and no batch is there in part.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, http } from './support/app.js';
import { kill, start, stop } from './support/process.js';

/** Matches every CloudTrail event: each event of a batch is one hit, so a half batch would show. */
const EVERY_EVENT_RULE = `AnalysisType: rule
RuleID: Test.EveryEvent
LogTypes: [AWS.CloudTrail]
Severity: Info
Condition: eventName exists
Tests:
  - Name: any event
    ExpectedResult: true
    Log: { eventName: Anything }
`;

const EVENTS_PER_BATCH = 300;

function cloudTrailBatch(): { ids: string[]; body: string } {
  const ids = Array.from({ length: EVENTS_PER_BATCH }, () => randomUUID());
  const events = ids.map((eventID, i) => ({
    eventVersion: '1.08',
    eventID,
    eventTime: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.1',
    userIdentity: { type: 'IAMUser', userName: `user-${i % 7}`, accountId: '123456789012' },
    recipientAccountId: '123456789012',
  }));
  return { ids, body: JSON.stringify(events) };
}

describe('a crash in the middle of ingest', () => {
  let workDir = '';

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tripline-crash-'));
    await mkdir(join(workDir, 'rules'));
    await writeFile(join(workDir, 'rules', 'every-event.yml'), EVERY_EVENT_RULE);
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('loses no acknowledged batch and leaves no half batch', async () => {
    const env = { TRIPLINE_BUILTIN_RULES: join(workDir, 'rules'), RATE_LIMIT_PER_SECOND: '0' };
    const server = await start(workDir, env);
    const sent: { ids: string[]; acknowledged: boolean }[] = [];
    let stopped = false;
    const client = async () => {
      while (!stopped) {
        const batch = cloudTrailBatch();
        const record = { ids: batch.ids, acknowledged: false };
        sent.push(record);
        try {
          const response = await fetch(`${server.url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...bearer() },
            body: batch.body,
          });
          record.acknowledged = response.status === 200;
          await response.arrayBuffer();
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    // Kill once a good number of batches went through, while others are on the wire.
    const deadline = Date.now() + 60_000;
    while (sent.filter((batch) => batch.acknowledged).length < 15) {
      if (Date.now() > deadline)
        throw new Error(`only ${sent.filter((b) => b.acknowledged).length} batches acknowledged in 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await kill(server);
    stopped = true;
    await Promise.all(clients);
    const acknowledged = sent.filter((batch) => batch.acknowledged);
    expect(acknowledged.length).toBeGreaterThanOrEqual(15);
    expect(sent.length).toBeGreaterThan(acknowledged.length);

    const restarted = await start(workDir, env);
    try {
      expect((await http(restarted.url, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await stop(restarted);
    }

    const database = new Database(join(workDir, 'data', 'tripline.sqlite'), { readonly: true });
    try {
      const count = database.prepare<[string], { n: number }>(
        `SELECT COUNT(*) AS n FROM hits WHERE event_id IN (SELECT value FROM json_each(?))`,
      );
      for (const batch of sent) {
        const stored = count.get(JSON.stringify(batch.ids))?.n ?? -1;
        if (batch.acknowledged) expect(stored).toBe(EVENTS_PER_BATCH);
        else expect([0, EVENTS_PER_BATCH]).toContain(stored);
      }
      // Every stored batch holds exactly the hits its own row says.
      const partial = database
        .prepare(
          `SELECT b.id FROM ingest_batches b LEFT JOIN hits h ON h.batch_id = b.id GROUP BY b.id HAVING COUNT(h.id) != b.hits`,
        )
        .all();
      expect(partial).toEqual([]);
    } finally {
      database.close();
    }
  }, 120_000);
});
