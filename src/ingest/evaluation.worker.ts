// An evaluation thread: decodes and evaluates large batches beside the thread that serves requests and
// writes them (evaluation-pool.ts). It builds each active rule set from the stored sources it is sent,
// exactly as the service builds its own (rules/rule-set-snapshot.ts), and answers each batch with the
// same plain data the service computes in place for a small one.
import { parentPort } from 'node:worker_threads';
import { DomainError } from '../common/errors.js';
import type { CompiledRule } from '../engine/compile.js';
import { buildSnapshot, EMPTY_SNAPSHOT, type RuleSetSnapshot } from '../rules/rule-set-snapshot.js';
import { BatchEvaluation, tooManyEvents } from './batch-evaluation.js';
import type { FromThread, ToThread } from './evaluation-protocol.js';
import { EventDecoder } from './event-decoder.js';

interface Job {
  batch: BatchEvaluation;
  decoder: EventDecoder;
  maxEvents: number;
  evaluationMs: number;
}

const port = parentPort;
if (!port) throw new Error('evaluation.worker.ts runs as a worker thread');

/** The newest set and the one before it: a batch that started on the older one finishes on it. */
let current: RuleSetSnapshot = EMPTY_SNAPSHOT;
let previous: RuleSetSnapshot | undefined;
let compiledByVersionId = new Map<number, CompiledRule>();
const jobs = new Map<number, Job>();

function post(message: FromThread): void {
  port?.postMessage(message);
}

/** Runs `step` on a job; a refusal or an error ends the job and is answered at once. */
function work(jobId: number, step: (job: Job) => void): void {
  const job = jobs.get(jobId);
  if (!job) return; // already refused or cancelled: the rest of its text is dropped
  const started = performance.now();
  try {
    step(job);
    job.evaluationMs += performance.now() - started;
  } catch (error) {
    jobs.delete(jobId);
    if (error instanceof DomainError) {
      post({
        kind: 'refused',
        job: jobId,
        problem: { status: error.status, code: error.code, title: error.title, detail: error.message },
      });
    } else {
      post({ kind: 'failed', job: jobId, message: error instanceof Error ? error.message : String(error) });
    }
  }
}

function take(job: Job, items: ReturnType<EventDecoder['write']>): void {
  if (job.decoder.count > job.maxEvents) throw tooManyEvents(job.maxEvents);
  for (const item of items) job.batch.add(item);
}

port.on('message', (message: ToThread) => {
  switch (message.kind) {
    case 'rules': {
      const started = performance.now();
      const built = buildSnapshot(message.sources, message.generation, compiledByVersionId);
      compiledByVersionId = built.compiledByVersionId;
      previous = current;
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
      const rules = previous?.generation === message.generation ? previous : current;
      jobs.set(message.job, {
        batch: new BatchEvaluation(rules, message.logType, new Date(message.receivedAt)),
        decoder: new EventDecoder(message.shape, message.limits),
        maxEvents: message.limits.maxEvents,
        evaluationMs: 0,
      });
      return;
    }
    case 'text':
      work(message.job, (job) => take(job, job.decoder.write(message.text)));
      post({ kind: 'consumed', job: message.job, chars: message.text.length });
      return;
    case 'end': {
      work(message.job, (job) => take(job, job.decoder.end()));
      const job = jobs.get(message.job);
      if (!job) return;
      jobs.delete(message.job);
      // Rules of a backend never reach a thread (the pool keeps such sets in place), so this is synchronous.
      void job.batch.finish().then(
        () =>
          post({ kind: 'done', job: message.job, batch: job.batch.result(), evaluationMs: job.evaluationMs }),
        (error: unknown) =>
          post({
            kind: 'failed',
            job: message.job,
            message: error instanceof Error ? error.message : String(error),
          }),
      );
      return;
    }
    case 'cancel':
      jobs.delete(message.job);
      return;
  }
});
