// Worker thread: parses the built-in pack's files (builtin-pack.files.ts) and posts them to the thread
// that started it.
import { parentPort, workerData } from 'node:worker_threads';
import { parsePackFiles } from './builtin-pack.files.js';

const { directory } = workerData as { directory: string };
parentPort?.postMessage(await parsePackFiles(directory));
