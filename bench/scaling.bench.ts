// The engine scaling table alone (also part of `npm run bench`):
//
//   npm run bench:scaling -- [--events 200000] [--sizes 10,100,1000,3000,10000]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCorpus, profileCorpus, sharedPathsOrSay } from './corpus.js';
import { measureEngineScaling, SCALING_SIZES, scalingTable } from './engine-scaling.js';
import { progressLog } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const log = progressLog();

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { events: { type: 'string' }, sizes: { type: 'string' } } });
  const events = Number(values.events ?? '200000');
  const sizes = values.sizes === undefined ? SCALING_SIZES : values.sizes.split(',').map(Number);
  if (
    !Number.isInteger(events) ||
    events <= 0 ||
    sizes.some((size) => !Number.isInteger(size) || size <= 0)
  ) {
    process.stderr.write('bench:scaling: --events and --sizes take positive whole numbers\n');
    return 2;
  }
  const shared = sharedPathsOrSay(repoRoot, 'bench:scaling');
  if (shared === undefined) return 1;
  const corpus = await loadCorpus(shared, join(repoRoot, 'bench', 'results', 'corpus'), events);
  const rows = measureEngineScaling(corpus.lines, profileCorpus(corpus.lines).profile, log, sizes);
  process.stdout.write(`${scalingTable(rows)}\n`);
  return rows.every((row) => row.differences === 0) ? 0 : 1;
}

process.exitCode = await main();
