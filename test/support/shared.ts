// Tests and benchmarks read the shared material (fixtures, real CloudTrail data, the corpus tool) from
// ../shared beside the checkout; it is never copied into the repository.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');

export const CONFORMANCE_DIR = join(SHARED_DIR, 'conformance', 'panther-simple-detections');
export const CORPUS_TOOL = join(SHARED_DIR, 'tools', 'make-cloudtrail-corpus.mjs');
export const SEED_FILE = join(SHARED_DIR, 'seed', '000_2c59e4a0288232cd.txt');

/** A title that says why a suite is skipped, so that a skip is never mistaken for a pass. */
export function sharedSuiteTitle(title: string, path: string): string {
  return existsSync(path)
    ? title
    : `${title} — SKIPPED: ${path} is absent (CI keeps ../shared beside the checkout)`;
}

export const hasShared = (path: string): boolean => existsSync(path);

export interface Corpus {
  file: string;
  expected: { events: number; externalPrincipal: number; AwsVpceEvent: number };
}

/** Builds a deterministic CloudTrail corpus with the shared tool; the tool writes the expected counts beside it. */
export async function makeCorpus(events: number, file: string, vpceEvery?: number): Promise<Corpus> {
  const args = [CORPUS_TOOL, String(events), file, ...(vpceEvery ? ['--vpce-every', String(vpceEvery)] : [])];
  await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 20 });
  const expectedFile = file.replace(/\.gz$/, '') + '.expected.json';
  const { readFile } = await import('node:fs/promises');
  return { file, expected: JSON.parse(await readFile(expectedFile, 'utf8')) as Corpus['expected'] };
}
