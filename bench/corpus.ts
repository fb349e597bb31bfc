// The benchmark corpus: real CloudTrail events replayed by ../shared/tools/make-cloudtrail-corpus.mjs.
// The shared material is read where it lies, beside the checkout, and never copied into the repository;
// a corpus is built once per size and kept in the cache directory for later runs.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { CorpusProfiler, type CorpusProfile } from './generated-rules.js';

export interface SharedPaths {
  root: string;
  corpusTool: string;
  conformanceValid: string;
}

export class MissingSharedError extends Error {}

/** ../shared beside the checkout; throws MissingSharedError naming what is absent. */
export function sharedPaths(repoRoot: string): SharedPaths {
  const root = resolve(repoRoot, '..', 'shared');
  const paths = {
    root,
    corpusTool: join(root, 'tools', 'make-cloudtrail-corpus.mjs'),
    conformanceValid: join(root, 'conformance', 'panther-simple-detections', 'valid'),
  };
  for (const path of [paths.corpusTool, paths.conformanceValid]) {
    if (!existsSync(path))
      throw new MissingSharedError(
        `${path} is absent. The benchmark builds its corpus and reads the conformance rules from ../shared ` +
          `beside the checkout (${root}); put the shared material there and run it again.`,
      );
  }
  return paths;
}

/**
 * sharedPaths for a benchmark's command line: when the shared material is absent it says what is missing,
 * prefixed with the script's name, and gives undefined (the script then exits 1).
 */
export function sharedPathsOrSay(repoRoot: string, script: string): SharedPaths | undefined {
  try {
    return sharedPaths(repoRoot);
  } catch (error) {
    if (!(error instanceof MissingSharedError)) throw error;
    process.stderr.write(`${script}: ${error.message}\n`);
    return undefined;
  }
}

export interface CorpusExpectation {
  events: number;
  /** Hits that AWS.CloudTrail.VPCE.ExternalPrincipal must find. */
  externalPrincipal: number;
}

export interface Corpus {
  file: string;
  lines: string[];
  bytes: number;
  expected: CorpusExpectation;
  /** Built by this run (false: taken from the cache). */
  built: boolean;
}

function readExpectation(file: string): CorpusExpectation {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CorpusExpectation>;
  if (typeof parsed.events !== 'number' || typeof parsed.externalPrincipal !== 'number')
    throw new Error(`${file} does not say how many events and externalPrincipal hits the corpus holds`);
  return { events: parsed.events, externalPrincipal: parsed.externalPrincipal };
}

/** Line by line, so that a corpus larger than the longest string V8 can hold still loads. */
async function readLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  const reader = createInterface({
    input: createReadStream(file, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  for await (const line of reader) if (line !== '') lines.push(line);
  return lines;
}

/** The corpus of `events` events: from the cache when a complete one is there, else built now. */
export async function loadCorpus(shared: SharedPaths, cacheDir: string, events: number): Promise<Corpus> {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `cloudtrail-${events}.ndjson`);
  const expectedFile = `${file}.expected.json`;
  let built = false;
  // The tool writes the expectation last; building under another name and renaming both after means a
  // cached pair is always complete.
  if (!existsSync(file) || !existsSync(expectedFile)) {
    const partial = join(cacheDir, `cloudtrail-${events}.partial.ndjson`);
    await promisify(execFile)(process.execPath, [shared.corpusTool, String(events), partial], {
      maxBuffer: 1 << 20,
    });
    renameSync(partial, file);
    renameSync(`${partial}.expected.json`, expectedFile);
    built = true;
  }
  const expected = readExpectation(expectedFile);
  const lines = await readLines(file);
  if (expected.events !== events || lines.length !== events)
    throw new Error(
      `${file} holds ${lines.length} events and its expectation says ${expected.events}, not ${events}: delete both files to rebuild them`,
    );
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  return { file, lines, bytes, expected, built };
}

const DAY_MS = 86_400_000;

/**
 * The corpus's API calls (for the generated rules) and the days its events fall in, a day's margin each
 * side (for GET /v1/stats and the hit queries).
 */
export function profileCorpus(lines: readonly string[]): {
  profile: CorpusProfile;
  since: Date;
  until: Date;
} {
  const profiler = new CorpusProfiler();
  let earliest = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  for (const line of lines) {
    const event = JSON.parse(line) as Record<string, unknown>;
    profiler.add(event);
    const time = Date.parse(typeof event.eventTime === 'string' ? event.eventTime : '');
    if (!Number.isNaN(time)) {
      earliest = Math.min(earliest, time);
      latest = Math.max(latest, time);
    }
  }
  return {
    profile: profiler.profile(),
    since: new Date(Math.floor(earliest / DAY_MS) * DAY_MS - DAY_MS),
    until: new Date(Math.ceil(latest / DAY_MS) * DAY_MS + DAY_MS),
  };
}
