// Parsing a large built-in pack takes about as long as loading the server's modules; main.ts starts it
// in a worker thread before it loads them, so that on two cores the two overlap. This module loads
// nothing else, so that it costs nothing to import first. The worker knows the built-in rule formats
// only, as does the server main.ts starts; an application built around createApp with formats of its
// own reads its pack in its own thread (BuiltinPackLoader does, when it is given no reading).
import { Worker } from 'node:worker_threads';
import type { ParsedPackFile } from './builtin-pack.files.js';

/** Injection token: the pack's files being parsed, if they were started before the application. */
export const BUILTIN_PACK_READING = Symbol('BUILTIN_PACK_READING');

export interface BuiltinPackReading {
  directory: string;
  files: Promise<ParsedPackFile[]>;
}

/** Starts parsing the pack in a worker thread; its failure rejects `files`. */
export function startBuiltinPackReading(directory: string): BuiltinPackReading {
  const worker = new Worker(new URL('./builtin-pack.worker.js', import.meta.url), {
    workerData: { directory },
  });
  const files = new Promise<ParsedPackFile[]>((resolve, reject) => {
    worker.once('message', (parsed: ParsedPackFile[]) => resolve(parsed));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the built-in pack's reader stopped (exit code ${code})`)),
    );
  });
  // Until the loader awaits it, a failure must not count as an unhandled rejection.
  files.catch(() => undefined);
  return { directory, files };
}
