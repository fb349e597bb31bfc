// An evaluation thread: decodes and evaluates large batches beside the thread that serves requests and
// writes them (evaluation-pool.ts). It builds each active rule set from the stored sources it is sent,
// exactly as the service builds its own (rules/rule-set-snapshot.ts), and answers each batch with the
// same plain data the service computes in place for a small one.
import { parentPort, workerData } from 'node:worker_threads';
import { DomainError } from '../common/errors.js';
import type { CompiledRule } from '../engine/compile.js';
import {
  buildSnapshot,
  EMPTY_ACTIVE_LIBRARY,
  EMPTY_SNAPSHOT,
  type RuleSetSnapshot,
} from '../rules/rule-set-snapshot.js';
import { BodyEvaluation } from './batch-evaluation.js';
import { EVALUATION_PROTOCOL, type FromThread, type ToThread } from './evaluation-protocol.js';

const port = parentPort;
if (!port) throw new Error('evaluation.worker.ts runs as a worker thread');

/** The last set sent. A batch starts on it: the service sends a set and starts batches in one order. */
let current: RuleSetSnapshot = EMPTY_SNAPSHOT;
let compiledByVersionId = new Map<number, CompiledRule>();
const jobs = new Map<number, BodyEvaluation>();

function post(message: FromThread): void {
  port?.postMessage(message);
}

function failed(jobId: number, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  post({ kind: 'failed', job: jobId, message, stack: error instanceof Error ? error.stack : undefined });
}

/** Runs `step` on a job; a refusal or an error ends the job and is answered at once. */
function work(jobId: number, step: (job: BodyEvaluation) => void): void {
  const job = jobs.get(jobId);
  if (!job) return; // already refused or cancelled: the rest of its text is dropped
  try {
    step(job);
  } catch (error) {
    jobs.delete(jobId);
    if (error instanceof DomainError) {
      const { status, code, title, message: detail, extensions, headers } = error;
      post({ kind: 'refused', job: jobId, problem: { status, code, title, detail, extensions, headers } });
    } else {
      failed(jobId, error);
    }
  }
}

// A thread of another build says so and takes no message: the service stops it.
if ((workerData as { protocol?: unknown } | undefined)?.protocol !== EVALUATION_PROTOCOL)
  post({ kind: 'incompatible', protocol: EVALUATION_PROTOCOL });
else port.on('message', receive);

function receive(message: ToThread): void {
  switch (message.kind) {
    case 'rules': {
      const started = performance.now();
      // Python rules never run on these threads (evaluation-pool.ts): their library stays empty here.
      const built = buildSnapshot(
        message.sources,
        message.generation,
        EMPTY_ACTIVE_LIBRARY,
        undefined,
        compiledByVersionId,
      );
      compiledByVersionId = built.compiledByVersionId;
      current = built.snapshot;
      post({
        kind: 'rules-built',
        generation: message.generation,
        rules: current.ruleSet.size,
        milliseconds: performance.now() - started,
      });
      return;
    }
    case 'start': {
      if (current.generation !== message.generation) {
        failed(
          message.job,
          new Error(`rules of generation ${message.generation} asked, ${current.generation} held`),
        );
        return;
      }
      const { logType, receivedAt, shape, limits } = message;
      jobs.set(message.job, new BodyEvaluation(current, logType, new Date(receivedAt), shape, limits));
      return;
    }
    case 'text':
      work(message.job, (job) => job.write(message.text));
      post({ kind: 'consumed', job: message.job, chars: message.text.length });
      return;
    case 'end': {
      work(message.job, (job) => job.end());
      const job = jobs.get(message.job);
      if (!job) return;
      jobs.delete(message.job);
      // Rules of a backend never reach a thread (the pool keeps such sets in place), so this is synchronous.
      // A batch that cannot be answered (its result does not copy) fails alone, not the thread.
      job.batch
        .finish()
        .then(() =>
          post({ kind: 'done', job: message.job, batch: job.batch.result(), evaluationMs: job.evaluationMs }),
        )
        .catch((error: unknown) => failed(message.job, error));
      return;
    }
    case 'cancel':
      jobs.delete(message.job);
      return;
  }
}
