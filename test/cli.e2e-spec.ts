// The `tripline` command as a user runs it: the real bin, real files, real processes.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFORMANCE_DIR,
  CORPUS_TOOL,
  hasShared,
  makeCorpus,
  REPO_ROOT,
  sharedSuiteTitle,
  type Corpus,
} from './support/shared.js';
import { SEED_OUTPUT_FIELDS } from './fixtures/seed-events.js';
import { tripline } from './support/cli.js';

interface HitLine {
  ruleId: string;
  title: string;
  dedup: string;
  severity: string;
  alertContext: Record<string, unknown>;
  index: number;
}

const hitLines = (stdout: string): HitLine[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HitLine);

let workDir = '';

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    await promisify(execFile)('npm', ['run', 'build'], { cwd: REPO_ROOT });
  }
  workDir = await mkdtemp(join(tmpdir(), 'tripline-cli-'));
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('tripline test', () => {
  it('runs the built-in pack by default and closes with the counts', async () => {
    const run = await tripline(['test']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^PASS AWS\.CloudTrail\.VPCE\.ExternalPrincipal › External Principal Access$/m,
    );
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('11 passed, 0 failed');
  });

  it('prints FAIL with each reason and exits 1 when a test fails', async () => {
    const file = join(workDir, 'failing.yml');
    await writeFile(
      file,
      `AnalysisType: rule
RuleID: Test.Failing
LogTypes: [Custom.Log]
Severity: Low
Condition: action eq "delete"
Tests:
  - Name: wrong expectation
    ExpectedResult: true
    Log: { action: create }
  - Name: right expectation
    ExpectedResult: false
    Log: { action: create }
`,
    );
    const run = await tripline(['test', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'FAIL Test.Failing › wrong expectation\n     ExpectedResult: expected true, got false',
    );
    expect(run.stdout).toContain('PASS Test.Failing › right expectation');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 1 failed');

    const json = await tripline(['test', '--json', file]);
    const report = JSON.parse(json.stdout) as {
      passed: number;
      failed: number;
      results: { name: string; passed: boolean }[];
    };
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    expect(report.results.map((r) => [r.name, r.passed])).toEqual([
      ['wrong expectation', false],
      ['right expectation', true],
    ]);
  });

  it.skipIf(!hasShared(CONFORMANCE_DIR))(
    sharedSuiteTitle('runs the conformance fixtures with --ignore-extra-keys', CONFORMANCE_DIR),
    async () => {
      const run = await tripline(['test', '--ignore-extra-keys', join(CONFORMANCE_DIR, 'valid'), 'rules']);
      // 77 fixture tests + 11 of the pack; the two failures are the EKS fixture's contradiction
      // (see conformance.e2e-spec.ts).
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('86 passed, 2 failed');
      expect(run.stderr).toContain('warning: unknown key "ThisIsNotARealTopLevelKey" (ignored)');
      // Without the flag, the error names the flag a user of tripline passes.
      const strict = await tripline(['validate', join(CONFORMANCE_DIR, 'valid')]);
      expect(strict.stderr).toContain('--ignore-extra-keys (tripline)');
    },
  );
});

describe('tripline validate', () => {
  it('accepts the built-in pack', async () => {
    const run = await tripline(['validate']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 valid rules in 1 files, 0 files with errors');
  });

  it.skipIf(!hasShared(CONFORMANCE_DIR))(
    sharedSuiteTitle('refuses each invalid fixture, naming the key and line', CONFORMANCE_DIR),
    async () => {
      const run = await tripline(['validate', join(CONFORMANCE_DIR, 'invalid')]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('0 valid rules in 3 files, 3 files with errors');
      expect(run.stderr).toMatch(
        /invalid_Test\.MultiMatch\.Key\.yml:17:5: error: .*\[Detection\[0\]\.Values\]/,
      );
      expect(run.stderr).toMatch(
        /invalid_asana_team_privacy\.yml:13:5: error: unknown key "Extra".*\[Detection\[1\]\.Extra\]/,
      );
      expect(run.stderr).toMatch(/invalid_gcp_gcs_public\.yml:2:1: error: .*Filename.*\[Filename\]/);
    },
  );
});

describe('tripline usage', () => {
  it('exits 2 with the usage on a wrong command or option', async () => {
    for (const args of [['frobnicate'], ['eval', '--rules', 'rules'], ['test', '--no-such-flag']]) {
      const run = await tripline(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('usage: tripline');
    }
  });
});

describe.skipIf(!hasShared(CORPUS_TOOL))(sharedSuiteTitle('tripline eval', CORPUS_TOOL), () => {
  let corpus: Corpus;

  beforeAll(async () => {
    // A VPC-endpoint event every 40 lines: 100 of them, 25 of which the seed rule must flag.
    corpus = await makeCorpus(4000, join(workDir, 'corpus.ndjson'), 40);
  });

  it('reports exactly the expected hits, with the event line index and the seed output fields', async () => {
    const run = await tripline(['eval', '--rules', 'rules', '--events', corpus.file]);
    expect(run.code).toBe(0);
    const hits = hitLines(run.stdout);
    expect(corpus.expected.externalPrincipal).toBe(25);
    expect(hits).toHaveLength(corpus.expected.externalPrincipal);
    const lines = (await readFile(corpus.file, 'utf8')).split('\n');
    for (const hit of hits) {
      const event = JSON.parse(lines[hit.index] ?? 'null') as {
        userIdentity: { accountId: string };
        recipientAccountId: string;
      };
      expect(hit.ruleId).toBe('AWS.CloudTrail.VPCE.ExternalPrincipal');
      expect(hit.severity).toBe('Medium');
      expect(Object.keys(hit.alertContext)).toEqual(SEED_OUTPUT_FIELDS);
      expect(hit.alertContext.accountId).toBe(event.userIdentity.accountId);
      expect(hit.alertContext.recipientAccountId).toBe(event.recipientAccountId);
      expect(hit.title).toBe(
        `External Principal [UnknownAWSAccount] from account [${event.userIdentity.accountId}] accessing resources in account [${event.recipientAccountId}]`,
      );
    }
    expect(run.stderr).toMatch(/^4000 events, 0 rejected, 25 hits from 1 rules/m);
  });

  it('reads gzip files and standard input the same way', async () => {
    const plain = await readFile(corpus.file);
    const gzFile = join(workDir, 'corpus.ndjson.gz');
    await writeFile(gzFile, gzipSync(plain));
    const fromFile = await tripline(['eval', '--rules', 'rules', '--events', corpus.file]);
    const fromGzip = await tripline(['eval', '--rules', 'rules', '--events', gzFile]);
    const fromStdin = await tripline(['eval', '--rules', 'rules', '--events', '-'], { stdin: plain });
    expect(fromGzip.stdout).toBe(fromFile.stdout);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
  });

  it('rejects bad lines one by one and goes on', async () => {
    const file = join(workDir, 'mixed.ndjson');
    const lines = (await readFile(corpus.file, 'utf8')).split('\n').slice(0, 40);
    await writeFile(file, ['{not json', '[1,2]', '{"hello":"world"}', ...lines].join('\n'));
    const run = await tripline(['eval', '--rules', 'rules', '--events', file]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('line 1: not JSON');
    expect(run.stderr).toContain('line 2: an event must be a JSON object');
    expect(run.stderr).toContain('line 3: no log type');
    expect(run.stderr).toMatch(/^43 events, 3 rejected/m);
    // With an explicit log type the odd event is evaluated (and simply does not match).
    const typed = await tripline([
      'eval',
      '--rules',
      'rules',
      '--events',
      file,
      '--log-type',
      'AWS.CloudTrail',
    ]);
    expect(typed.stderr).toMatch(/^43 events, 2 rejected/m);
  });
});

describe.skipIf(!hasShared(CORPUS_TOOL))(
  sharedSuiteTitle('tripline eval on the 200,000-event corpus', CORPUS_TOOL),
  () => {
    it('streams 250 MB in a 64 MB heap and finds exactly the expected hits', async () => {
      const corpus = await makeCorpus(200_000, join(workDir, 'large.ndjson'));
      // A heap far smaller than the file: if eval read the file whole, it would die here.
      const run = await tripline(['eval', '--rules', 'rules', '--events', corpus.file], {
        nodeOptions: ['--max-old-space-size=64'],
      });
      expect(run.code, run.stderr).toBe(0);
      expect(hitLines(run.stdout)).toHaveLength(corpus.expected.externalPrincipal);
      expect(corpus.expected.externalPrincipal).toBe(50);
      expect(run.stderr).toMatch(/^200000 events, 0 rejected, 50 hits/m);
    }, 180_000);
  },
);
