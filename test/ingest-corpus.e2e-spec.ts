// The CloudTrail corpus through POST /v1/events: exact hit counts, every body shape giving the same hits,
// and 20 concurrent clients losing nothing.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, removeDatabase, rows, startApp, type RunningApp } from './support/app.js';
import { CORPUS_TOOL, hasShared, makeCorpus, sharedSuiteTitle, type Corpus } from './support/shared.js';

const BATCH = 1000;

type Shape = 'array' | 'ndjson' | 'concatenated' | 'records';

function body(lines: readonly string[], shape: Shape): string {
  switch (shape) {
    case 'array':
      return `[${lines.join(',')}]`;
    case 'ndjson':
      return lines.join('\n') + '\n';
    case 'concatenated':
      return lines.join('');
    case 'records':
      return `{"Records":[${lines.join(',')}]}`;
  }
}

function batches(lines: readonly string[]): string[][] {
  const result: string[][] = [];
  for (let start = 0; start < lines.length; start += BATCH) result.push(lines.slice(start, start + BATCH));
  return result;
}

async function send(base: string, payload: string | Buffer, headers: Record<string, string>) {
  const response = await fetch(`${base}/v1/events`, {
    method: 'POST',
    headers: { ...bearer(), ...headers },
    body: payload,
  });
  return {
    status: response.status,
    body: (await response.json()) as { accepted: number; hits: number; rejectedCount: number },
  };
}

/** Every stored hit as one comparable line: rule, CloudTrail eventID and output fields. */
async function storedHits(running: RunningApp): Promise<string[]> {
  const stored = await rows<{ rule_id: string; event_id: string; output_fields: string }>(
    running,
    'SELECT rule_id, event_id, output_fields FROM hits ORDER BY rule_id, event_id',
  );
  return stored.map((row) => `${row.rule_id}|${row.event_id}|${row.output_fields}`);
}

describe.skipIf(!hasShared(CORPUS_TOOL))(
  sharedSuiteTitle('ingest of the CloudTrail corpus', CORPUS_TOOL),
  () => {
    let directory = '';
    let small: Corpus;
    let smallLines: string[];

    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), 'tripline-corpus-'));
      small = await makeCorpus(20_000, join(directory, 'small.ndjson'), 100);
      smallLines = (await readFile(small.file, 'utf8')).split('\n').filter(Boolean);
    });

    afterAll(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it('gives identical hits for a JSON array, NDJSON, concatenated objects, Records files, and gzip', async () => {
      const forms: { name: string; shape: Shape; gzip: boolean; contentType: string }[] = [
        { name: 'JSON array', shape: 'array', gzip: false, contentType: 'application/json' },
        { name: 'NDJSON', shape: 'ndjson', gzip: false, contentType: 'application/x-ndjson' },
        { name: 'concatenated objects', shape: 'concatenated', gzip: false, contentType: 'application/json' },
        { name: 'Records files', shape: 'records', gzip: false, contentType: 'application/json' },
        { name: 'gzip JSON array', shape: 'array', gzip: true, contentType: 'application/json' },
        {
          name: 'gzip NDJSON sent as octet-stream',
          shape: 'ndjson',
          gzip: true,
          contentType: 'application/octet-stream',
        },
        { name: 'gzip Records files', shape: 'records', gzip: true, contentType: 'application/json' },
      ];
      let reference: string[] | undefined;
      for (const form of forms) {
        const running = await startApp();
        try {
          let accepted = 0;
          for (const lines of batches(smallLines)) {
            const text = body(lines, form.shape);
            const headers: Record<string, string> = {
              'content-type': form.contentType,
              ...(form.gzip ? { 'content-encoding': 'gzip' } : {}),
            };
            const answer = await send(running.url, form.gzip ? gzipSync(text) : text, headers);
            expect(answer.status, form.name).toBe(200);
            expect(answer.body.rejectedCount, form.name).toBe(0);
            accepted += answer.body.accepted;
          }
          expect(accepted, form.name).toBe(small.expected.events);
          const hits = await storedHits(running);
          expect(hits, form.name).toHaveLength(small.expected.externalPrincipal);
          if (reference) expect(hits, form.name).toEqual(reference);
          reference = hits;
        } finally {
          await running.close();
          await removeDatabase(running);
        }
      }
      expect(small.expected.externalPrincipal).toBe(50);
    }, 180_000);

    it('200,000 events in batches of 1000 from 20 concurrent clients give exactly the expected hits; a re-POST adds nothing', async () => {
      const large = await makeCorpus(200_000, join(directory, 'large.ndjson'));
      const all = batches((await readFile(large.file, 'utf8')).split('\n').filter(Boolean));
      expect(all).toHaveLength(200);
      const running = await startApp();
      try {
        let next = 0;
        const statuses: number[] = [];
        let accepted = 0;
        let hits = 0;
        const client = async () => {
          for (let mine = next++; mine < all.length; mine = next++) {
            const answer = await send(running.url, body(all[mine] ?? [], 'array'), {
              'content-type': 'application/json',
            });
            statuses.push(answer.status);
            accepted += answer.body.accepted;
            hits += answer.body.hits;
          }
        };
        await Promise.all(Array.from({ length: 20 }, client));
        expect(statuses.filter((status) => status !== 200)).toEqual([]);
        expect(accepted).toBe(200_000);
        expect(hits).toBe(large.expected.externalPrincipal);
        expect(await storedHits(running)).toHaveLength(large.expected.externalPrincipal);

        const again = await send(running.url, body(all[0] ?? [], 'array'), {
          'content-type': 'application/json',
        });
        expect(again.body.hits).toBe(0);
        expect(await storedHits(running)).toHaveLength(large.expected.externalPrincipal);
      } finally {
        await running.close();
        await removeDatabase(running);
      }
    }, 300_000);
  },
);
