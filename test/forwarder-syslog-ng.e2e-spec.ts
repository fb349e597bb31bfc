// A real log forwarder in front of the API: syslog-ng follows a CloudTrail NDJSON file and sends it with
// its http() destination in NDJSON batches to POST /v1/events, as a user would set it up. Every line must
// arrive exactly once and make exactly the hits the founding rule expects.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { http, removeDatabase, rows, startApp, TEST_ADMIN_KEY, type RunningApp } from './support/app.js';
import { SHARED_DIR } from './support/shared.js';
import { SYSLOG_NG, syslogNgMissing, systemToolSuiteTitle } from './support/system-tools.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';
const EXTERNAL_ACCOUNT_ID = '111111111111';
/** Real management events of one account; none of them is a VPC-endpoint event, so none is a hit. */
const REAL_EVENTS = join(SHARED_DIR, 'data', 'cloudtrail', 'invictus-aws-dataset.ndjson');
const OTHER_EVENTS = 397;
/** Where the three seed events go among the others: one in the first, third and last batch of 100. */
const SEED_LINES = [17, 230, 391];
const BATCH_LINES = 100;
const ARRIVAL_DEADLINE_MS = 30_000;

/** The first OTHER_EVENTS real CloudTrail lines, or as many simple generated ones where ../shared is absent. */
async function otherEvents(): Promise<string[]> {
  if (existsSync(REAL_EVENTS)) {
    const lines = (await readFile(REAL_EVENTS, 'utf8')).split('\n').filter((line) => line !== '');
    return lines.slice(0, OTHER_EVENTS);
  }
  return Array.from({ length: OTHER_EVENTS }, (_, index) =>
    JSON.stringify({
      eventVersion: '1.08',
      eventID: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
      eventTime: new Date(Date.UTC(2023, 2, 1, 0, 0, index)).toISOString(),
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      eventType: 'AwsApiCall',
      eventCategory: 'Management',
      awsRegion: 'us-east-1',
      sourceIPAddress: '198.51.100.7',
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLE',
        arn: 'arn:aws:iam::333333333333:user/alice',
        accountId: '333333333333',
      },
      recipientAccountId: '333333333333',
    }),
  );
}

/** The other events with the seed's three at SEED_LINES, one JSON object a line. */
async function cloudTrailLines(): Promise<string[]> {
  const lines = await otherEvents();
  const seeds = [seedExternalPrincipalAccess(), seedSameAccountAccess(), seedNonVpcEvent()];
  SEED_LINES.forEach((line, index) => lines.splice(line, 0, JSON.stringify(seeds[index])));
  return lines;
}

/** The "major.minor" of the installed syslog-ng, which its configuration must declare. */
function syslogNgVersion(): string {
  const version = spawnSync(SYSLOG_NG, ['--version'], { encoding: 'utf8' }).stdout;
  const match = /^Installer-Version: (\d+\.\d+)/m.exec(version);
  if (!match?.[1]) throw new Error(`no version in syslog-ng --version: ${version}`);
  return match[1];
}

/** Reads the file once, each line one message as it stands (no-parse), and posts them in NDJSON batches. */
function syslogNgConfig(eventsFile: string, ingestUrl: string): string {
  return `@version: ${syslogNgVersion()}
# Lines of real CloudTrail events run to several kB; the default limit (64 kiB) would split longer ones.
options { log-msg-size(1048576); stats-freq(0); };
source s_cloudtrail { file("${eventsFile}" follow-freq(1) flags(no-parse)); };
destination d_tripline {
  http(
    url("${ingestUrl}")
    method("POST")
    headers("Authorization: Bearer ${TEST_ADMIN_KEY}", "Content-Type: application/x-ndjson")
    body("\${MESSAGE}")
    batch-lines(${BATCH_LINES})
    batch-timeout(500)
  );
};
log { source(s_cloudtrail); destination(d_tripline); };
`;
}

interface Forwarder {
  process: ChildProcess;
  output: () => string;
  exited: () => boolean;
}

/** syslog-ng in the foreground with every file of its own in `directory`: it never meets the system's one. */
function startSyslogNg(directory: string, configFile: string): Forwarder {
  const child = spawn(SYSLOG_NG, [
    '--foreground',
    '--no-caps',
    '--stderr',
    '-f',
    configFile,
    '-R',
    join(directory, 'syslog-ng.persist'),
    '-p',
    join(directory, 'syslog-ng.pid'),
    '--control',
    join(directory, 'syslog-ng.ctl'),
  ]);
  let output = '';
  let exited = false;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.on('exit', () => (exited = true));
  return { process: child, output: () => output, exited: () => exited };
}

function stopSyslogNg(forwarder: Forwarder): Promise<void> {
  if (forwarder.exited()) return Promise.resolve();
  return new Promise((resolve) => {
    forwarder.process.on('exit', () => resolve());
    forwarder.process.kill('SIGTERM');
  });
}

interface Received {
  batches: number;
  received: number;
  accepted: number;
}

async function receivedSoFar(running: RunningApp): Promise<Received> {
  const [totals] = await rows<Received>(
    running,
    `SELECT CAST(COUNT(*) AS INTEGER) AS batches, CAST(COALESCE(SUM(received), 0) AS INTEGER) AS received,
       CAST(COALESCE(SUM(accepted), 0) AS INTEGER) AS accepted FROM ingest_batches`,
  );
  if (!totals) throw new Error('no totals');
  return totals;
}

async function acceptedCloudTrailEvents(base: string): Promise<number> {
  const metrics = await http<string>(base, 'GET', '/metrics');
  expect(metrics.status).toBe(200);
  const match = /^tripline_events_accepted_total\{log_type="AWS\.CloudTrail"\} (\d+)$/m.exec(metrics.body);
  return Number(match?.[1] ?? 0);
}

describe.skipIf(syslogNgMissing() !== undefined)(
  systemToolSuiteTitle('syslog-ng forwarding CloudTrail NDJSON over http()', syslogNgMissing()),
  () => {
    let running: RunningApp;
    let directory = '';
    let forwarder: Forwarder | undefined;

    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), 'tripline-syslog-ng-'));
      running = await startApp();
    });

    afterAll(async () => {
      if (forwarder) await stopSyslogNg(forwarder);
      await running.close();
      await removeDatabase(running);
      await rm(directory, { recursive: true, force: true });
    });

    it('delivers every line exactly once, in batches, and the seed hit is the only hit', async () => {
      const lines = await cloudTrailLines();
      const eventsFile = join(directory, 'cloudtrail.ndjson');
      await writeFile(eventsFile, lines.join('\n') + '\n');
      const configFile = join(directory, 'syslog-ng.conf');
      await writeFile(configFile, syslogNgConfig(eventsFile, `${running.url}/v1/events`));
      const acceptedBefore = await acceptedCloudTrailEvents(running.url);

      const started = Date.now();
      forwarder = startSyslogNg(directory, configFile);
      let received = await receivedSoFar(running);
      while (received.received < lines.length && Date.now() - started < ARRIVAL_DEADLINE_MS) {
        if (forwarder.exited()) throw new Error(`syslog-ng stopped early:\n${forwarder.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        received = await receivedSoFar(running);
      }
      await stopSyslogNg(forwarder);
      expect(
        received.received,
        `after ${Date.now() - started} ms; syslog-ng said:\n${forwarder.output()}`,
      ).toBe(lines.length);

      // Nothing more came while syslog-ng stopped: no batch was sent twice.
      received = await receivedSoFar(running);
      expect(received).toMatchObject({ received: lines.length, accepted: lines.length });
      expect(received.batches).toBeGreaterThanOrEqual(Math.ceil(lines.length / BATCH_LINES));
      expect((await acceptedCloudTrailEvents(running.url)) - acceptedBefore).toBe(lines.length);

      const seedHits = await http(running.url, 'GET', `/v1/hits?ruleId=${SEED_RULE_ID}`);
      expect(seedHits.status).toBe(200);
      expect(seedHits.body.items).toHaveLength(1);
      expect(seedHits.body.items[0]).toMatchObject({
        ruleId: SEED_RULE_ID,
        outputFields: { accountId: EXTERNAL_ACCOUNT_ID, recipientAccountId: '222222222222' },
      });
      const allHits = await http(running.url, 'GET', '/v1/hits');
      expect(allHits.body.items.map((hit: { id: number }) => hit.id)).toEqual([seedHits.body.items[0].id]);
    });
  },
);
