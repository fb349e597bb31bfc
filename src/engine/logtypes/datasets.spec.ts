// Real CloudTrail events and the seed rule's logs from the shared folder beside the repository.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isPlainObject, type JsonObject } from '../values.js';
import { CLOUDTRAIL_LOG_TYPE } from './cloudtrail.js';
import { detectLogType, normaliseEvent } from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sharedDir = path.resolve(repoRoot, '..', 'shared');
const cloudTrailDir = path.join(sharedDir, 'data', 'cloudtrail');
const seedFile = path.join(sharedDir, 'seed', '000_2c59e4a0288232cd.txt');
const RECEIVED = new Date(Date.UTC(2024, 0, 2));

function readEvents(file: string): JsonObject[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as JsonObject);
}

function absent(file: string): { missing: boolean; title: string } {
  const missing = !existsSync(file);
  const name = path.basename(file);
  return { missing, title: missing ? `${name} [skipped: ${file} is not there]` : name };
}

describe.each([
  'invictus-aws-dataset.ndjson',
  'stratus-red-team-detonations.ndjson',
  'aws-docs-network-activity.ndjson',
])('real CloudTrail: %s', (name) => {
  const file = path.join(cloudTrailDir, name);
  const { missing, title } = absent(file);

  it.skipIf(missing)(`recognises every line as CloudTrail: ${title}`, () => {
    const events = readEvents(file);
    expect(events.length).toBeGreaterThan(0);
    const unrecognised = events.filter((event) => detectLogType(event) !== CLOUDTRAIL_LOG_TYPE);
    expect(unrecognised).toEqual([]);
  });

  it.skipIf(missing)(`normalises every line: ${title}`, () => {
    for (const event of readEvents(file)) {
      const eventTime = event.eventTime as string;
      normaliseEvent(event, CLOUDTRAIL_LOG_TYPE, { receivedAt: RECEIVED, keepExisting: false });
      expect(event.p_event_time).toBe(new Date(eventTime).toISOString());
      expect(event.p_log_type).toBe(CLOUDTRAIL_LOG_TYPE);
      const udm = event.p_udm;
      expect(isPlainObject(udm)).toBe(true);
      expect((udm as JsonObject).actor_user).toBeTypeOf('string');
      for (const key of [
        'p_any_ip_addresses',
        'p_any_aws_account_ids',
        'p_any_aws_arns',
        'p_any_usernames',
      ]) {
        const list = event[key];
        if (list === undefined) continue;
        expect(Array.isArray(list) && list.length > 0).toBe(true);
        expect([...new Set(list as string[])].sort()).toEqual(list);
      }
    }
  });
});

describe('real CloudTrail: actor_user on the invictus dataset', () => {
  const file = path.join(cloudTrailDir, 'invictus-aws-dataset.ndjson');
  const { missing, title } = absent(file);

  it.skipIf(missing)(`follows the table for the types it holds: ${title}`, () => {
    for (const event of readEvents(file)) {
      const identity = event.userIdentity as JsonObject;
      const actor = (
        normaliseEvent(event, CLOUDTRAIL_LOG_TYPE, { receivedAt: RECEIVED, keepExisting: false })
          .p_udm as JsonObject
      ).actor_user;
      switch (identity.type) {
        case 'IAMUser':
          expect(actor).toBe(identity.userName);
          break;
        case 'AssumedRole':
          expect(actor).toBe(
            ((identity.sessionContext as JsonObject).sessionIssuer as JsonObject | undefined)?.userName ??
              'UnknownAssumedRole',
          );
          break;
        case 'AWSService':
          expect(actor).toBe('UnknownAWSService');
          break;
        case undefined:
          // Every untyped identity here is on an AwsServiceEvent and names the calling service.
          expect(event.eventType).toBe('AwsServiceEvent');
          expect(actor).toBe(identity.invokedBy);
          break;
        default:
          throw new Error(`unexpected userIdentity.type ${String(identity.type)}`);
      }
      if (
        event.sourceIPAddress === 'AWS Internal' ||
        String(event.sourceIPAddress).endsWith('.amazonaws.com')
      ) {
        expect(event).not.toHaveProperty('p_any_ip_addresses');
      }
    }
  });
});

describe('the seed rule’s test logs', () => {
  const { missing, title } = absent(seedFile);

  it.skipIf(missing)(`gives actor_user UnknownAWSAccount for each of them: ${title}`, () => {
    // The seed prints each Log as a JSON object between "Log:" and the next test or section.
    const text = readFileSync(seedFile, 'utf8');
    const logs = [...text.matchAll(/^Log:\n(\{[\s\S]*?\n\})\n/gm)].map(
      (match) => JSON.parse(match[1] ?? '') as JsonObject,
    );
    expect(logs).toHaveLength(3);
    for (const log of logs) {
      expect(detectLogType(log)).toBe(CLOUDTRAIL_LOG_TYPE);
      const event = normaliseEvent({ ...log, p_log_type: CLOUDTRAIL_LOG_TYPE }, CLOUDTRAIL_LOG_TYPE, {
        receivedAt: RECEIVED,
        keepExisting: true,
      });
      expect(event.p_udm).toMatchObject({ actor_user: 'UnknownAWSAccount' });
      expect(event.p_event_time).toBe('2023-03-01T00:00:00.000Z');
    }
  });
});
