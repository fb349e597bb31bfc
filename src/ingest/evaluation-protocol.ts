// The messages between the ingest service and its evaluation threads (evaluation-pool.ts on the
// service's side, evaluation.worker.ts on the thread's). Each thread builds the active rule set itself
// from the same stored sources; a batch's text goes over in the pieces it arrives in, and its evaluation
// comes back as plain data.
import type { ActiveRuleSource } from '../rules/rule-store.js';
import type { EvaluatedBatch } from './batch-evaluation.js';
import type { BodyShape, DecoderLimits } from './event-decoder.js';

/**
 * Changes whenever a message below changes: a thread started from another build (the suite runs the
 * TypeScript sources with the threads of `dist/`) says so and stops rather than misread a message.
 */
export const EVALUATION_PROTOCOL = 2;

/** A problem the thread found with the batch itself, answered as the service's own DomainError. */
export interface BatchProblem {
  status: number;
  code: string;
  title: string;
  detail: string;
  extensions: Record<string, unknown>;
  headers: Record<string, string>;
}

export type ToThread =
  /** A new active set, in the order the service built them. */
  | { kind: 'rules'; generation: number; sources: readonly ActiveRuleSource[] }
  | {
      kind: 'start';
      job: number;
      /** The generation of the snapshot the request took: the last set sent, which the thread must hold. */
      generation: number;
      logType: string | undefined;
      receivedAt: number;
      shape: BodyShape;
      limits: DecoderLimits & { maxEvents: number };
    }
  | { kind: 'text'; job: number; text: string }
  | { kind: 'end'; job: number }
  /** The request ended early (its body was refused, or the client left). */
  | { kind: 'cancel'; job: number };

export type FromThread =
  /** The thread has built that set (a rule that no longer loads is left out, as the service leaves it). */
  | { kind: 'rules-built'; generation: number; rules: number; milliseconds: number }
  /** A piece of text was decoded and evaluated: the service holds back while too much waits. */
  | { kind: 'consumed'; job: number; chars: number }
  | { kind: 'done'; job: number; batch: EvaluatedBatch; evaluationMs: number }
  | { kind: 'refused'; job: number; problem: BatchProblem }
  | { kind: 'failed'; job: number; message: string; stack: string | undefined }
  /** The thread runs another build than the service: it stops. */
  | { kind: 'incompatible'; protocol: number };
