// Evaluation threads for large batches. The thread that serves requests also writes every batch to the
// database; decoding and evaluating a batch of thousands of events beside that, on another core, lets
// the two overlap (on 2 cores, 1,000 rules: see bench/README.md). A batch goes to a thread when its
// Content-Length says it is large (EVALUATION_THREAD_MIN_BYTES): a small one costs less in place than
// the hand-over. Everything else stays in place too: rules that run in a backend, and formats or log
// types registered as plug-ins, which only this thread knows.
//
// Each thread builds the active rule set from the stored sources, as ActiveRuleSet does, whenever the set
// changes. A thread that dies fails the batches it held with a 503 (nothing of them was stored; the sender
// retries) and is replaced.
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DomainError } from '../common/errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { onlyBuiltInRuleFormats } from '../engine/formats/registry.js';
import { onlyBuiltInLogTypes } from '../engine/logtypes/index.js';
import { ActiveRuleSet, type RuleSetSnapshot } from '../rules/active-rule-set.service.js';
import type { EvaluatedBatch } from './batch-evaluation.js';
import {
  EVALUATION_PROTOCOL,
  type BatchProblem,
  type FromThread,
  type ToThread,
} from './evaluation-protocol.js';
import type { BodyShape, DecoderLimits } from './event-decoder.js';

/** Text sent to a thread and not yet evaluated, per batch, past which the request waits for it. */
const MAX_UNCONSUMED_CHARS = 4 * 1024 * 1024;
/** The same over all the batches on one thread: many large uploads at once wait rather than pile up. */
const MAX_THREAD_BACKLOG_CHARS = 32 * 1024 * 1024;

export interface EvaluationRequest {
  contentLength: number | undefined;
  logType: string | undefined;
  receivedAt: Date;
  shape: BodyShape;
  limits: DecoderLimits & { maxEvents: number };
}

export interface EvaluatedOnThread {
  batch: EvaluatedBatch;
  evaluationMs: number;
}

/** The thread's script: the compiled one beside this file, or, when running from the TypeScript sources
 * (the test suite), the build of the same checkout. */
function workerScript(): URL | undefined {
  const beside = new URL('./evaluation.worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../dist/src/ingest/evaluation.worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : undefined;
}

function unavailable(reason: string): DomainError {
  const error = new DomainError(
    503,
    'evaluation_unavailable',
    'Evaluation unavailable',
    `the batch could not be evaluated (${reason}); nothing was stored, send it again`,
  );
  error.headers['retry-after'] = '1';
  return error;
}

/** One batch on its way through a thread. */
export class EvaluationJob {
  private unconsumed = 0;
  private outcome: { ok: true; value: EvaluatedOnThread } | { ok: false; error: Error } | undefined;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly id: number,
    private readonly thread: EvaluationThread,
  ) {}

  /** Sends a piece of the body; waits while the thread is behind. Throws once the batch was refused. */
  async write(text: string): Promise<void> {
    this.throwIfFailed();
    this.unconsumed += text.length;
    this.thread.send({ kind: 'text', job: this.id, text });
    while (
      (this.unconsumed > MAX_UNCONSUMED_CHARS || this.thread.backlog > MAX_THREAD_BACKLOG_CHARS) &&
      this.outcome === undefined
    )
      await this.next();
    this.throwIfFailed();
  }

  /** The evaluated batch, once the thread has read the end. */
  async end(): Promise<EvaluatedOnThread> {
    this.throwIfFailed();
    this.thread.send({ kind: 'end', job: this.id });
    while (this.outcome === undefined) await this.next();
    if (!this.outcome.ok) throw this.outcome.error;
    return this.outcome.value;
  }

  /** The request ended before its batch did: the thread drops what it holds of it. */
  cancel(): void {
    if (this.outcome !== undefined) return;
    this.settle({ ok: false, error: new Error('cancelled') });
    this.thread.send({ kind: 'cancel', job: this.id });
  }

  consumed(chars: number): void {
    this.unconsumed -= chars;
    this.wake();
  }

  settle(outcome: NonNullable<EvaluationJob['outcome']>): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.thread.forget(this.id);
    this.wake();
  }

  private throwIfFailed(): void {
    if (this.outcome !== undefined && !this.outcome.ok) throw this.outcome.error;
  }

  private next(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Lets a `write` or `end` that waits look again. */
  wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** One worker thread and the batches it holds. */
class EvaluationThread {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, EvaluationJob>();
  /** Characters sent and not yet evaluated, over all its batches: the pool picks the least behind. */
  backlog = 0;
  /** It has built a rule set: a thread that dies before that cannot start at all, and is not replaced. */
  started = false;
  /** It has stopped (or is stopping): what is sent to it fails at once instead of waiting for an answer. */
  private dead = false;
  /** Settles when it has built its first rule set, or has stopped before. */
  readonly built: Promise<void>;
  private builtOrNot!: { resolve: () => void; reject: (error: Error) => void };

  constructor(
    script: URL,
    private readonly onExit: (thread: EvaluationThread, reason: string) => void,
    private readonly logger: Logger,
  ) {
    this.built = new Promise<void>((resolve, reject) => (this.builtOrNot = { resolve, reject }));
    // Nobody need wait for it: a thread that never starts is logged by the pool.
    this.built.catch(() => undefined);
    this.worker = new Worker(script, {
      name: 'tripline-evaluation',
      workerData: { protocol: EVALUATION_PROTOCOL },
    });
    this.worker.on('message', (message: FromThread) => this.receive(message));
    // An answer that cannot be read would leave its request waiting: the thread is stopped instead.
    this.worker.on(
      'messageerror',
      (error) => void this.stop(`an answer could not be read: ${error.message}`),
    );
    // Kept for the thread's whole life: a Worker's 'error' with no listener would end the process.
    this.worker.on('error', (error) => this.exited(`it failed: ${error.message}`));
    this.worker.on('exit', (code) => this.exited(`it exited with code ${code}`));
    // The thread never keeps the process alive on its own: shutdown ends it.
    this.worker.unref();
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  get jobCount(): number {
    return this.jobs.size;
  }

  /** Ends the thread as a crash would, without a word: what follows is what follows a crash. */
  async crash(): Promise<void> {
    await this.worker.terminate();
  }

  job(id: number): EvaluationJob {
    const job = new EvaluationJob(id, this);
    this.jobs.set(id, job);
    if (this.dead) job.settle({ ok: false, error: unavailable('its evaluation thread stopped') });
    return job;
  }

  send(message: ToThread): void {
    if (this.dead) return;
    if (message.kind === 'text') this.backlog += message.text.length;
    this.worker.postMessage(message);
  }

  forget(id: number): void {
    this.jobs.delete(id);
  }

  /** Stops the thread; its batches fail with 503 and the pool hears of it as of any other end. */
  async stop(reason: string): Promise<void> {
    this.exited(reason);
    await this.worker.terminate();
  }

  private receive(message: FromThread): void {
    switch (message.kind) {
      case 'rules-built':
        this.started = true;
        this.builtOrNot.resolve();
        this.logger.debug(
          `evaluation thread ${this.worker.threadId}: ${message.rules} rules active (generation ${message.generation}, ${Math.round(message.milliseconds)} ms)`,
        );
        return;
      case 'incompatible':
        void this.stop(
          `its script is of another build (protocol ${message.protocol}, this one ${EVALUATION_PROTOCOL}); run \`npm run build\``,
        );
        return;
      case 'consumed':
        this.backlog -= message.chars;
        this.jobs.get(message.job)?.consumed(message.chars);
        // Batches held back by the thread's whole backlog may go on too.
        for (const job of this.jobs.values()) job.wake();
        return;
      case 'done':
        this.jobs.get(message.job)?.settle({
          ok: true,
          value: { batch: message.batch, evaluationMs: message.evaluationMs },
        });
        return;
      case 'refused':
        this.jobs.get(message.job)?.settle({ ok: false, error: problemError(message.problem) });
        return;
      case 'failed': {
        const error = new Error(`evaluation thread: ${message.message}`);
        if (message.stack !== undefined) error.stack = `${error.message}\n(thread) ${message.stack}`;
        this.jobs.get(message.job)?.settle({ ok: false, error });
        return;
      }
    }
  }

  /** Once, at the first sign of the end: every batch it held fails, and the pool is told. */
  private exited(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.builtOrNot.reject(new Error(`the evaluation thread stopped: ${reason}`));
    for (const job of [...this.jobs.values()]) job.settle({ ok: false, error: unavailable(reason) });
    this.backlog = 0;
    this.onExit(this, reason);
  }
}

function problemError(problem: BatchProblem): DomainError {
  const error = new DomainError(
    problem.status,
    problem.code,
    problem.title,
    problem.detail,
    problem.extensions,
  );
  error.headers = problem.headers;
  return error;
}

@Injectable()
export class EvaluationPool implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Ingest');
  private threads: EvaluationThread[] = [];
  private script: URL | undefined;
  /** The last set sent, for a thread that replaces one that died. */
  private latestRules: Extract<ToThread, { kind: 'rules' }> | undefined;
  /** The snapshot the threads hold: a batch that took another (a test's stand-in) is evaluated in place. */
  private sentSnapshot: RuleSetSnapshot | undefined;
  private nextJob = 1;
  private stopping = false;
  /** The threads start with the first large batch: a service that never gets one spends nothing on them. */
  private spawned = false;
  /** Batches handed to a thread since start (the suite's evidence that a batch went to one). */
  batchesOnThreads = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly activeRules: ActiveRuleSet,
  ) {}

  onModuleInit(): void {
    const wanted = this.config.ingest.evaluationThreads;
    if (wanted === 0) return;
    this.script = workerScript();
    if (!this.script) {
      this.logger.warn(
        'no evaluation thread script was found (run `npm run build`): batches are evaluated in place',
      );
      return;
    }
    this.activeRules.subscribe((snapshot, sources) => {
      this.latestRules = { kind: 'rules', generation: snapshot.generation, sources };
      this.sentSnapshot = snapshot;
      for (const thread of this.threads) thread.send(this.latestRules);
    });
    this.logger.log(
      `${wanted} evaluation thread${wanted === 1 ? '' : 's'} for batches of ${this.config.ingest.evaluationThreadMinBytes} bytes and more, started with the first such batch`,
    );
  }

  /** Starts the threads now if they are not yet, and resolves once one holds the rules. */
  async ready(): Promise<void> {
    this.spawn();
    await Promise.any(this.threads.map((thread) => thread.built));
  }

  /** Batches on a thread now, not yet evaluated or failed. */
  get batchesInFlight(): number {
    return this.threads.reduce((sum, thread) => sum + thread.jobCount, 0);
  }

  /** The worker threads' ids (the suite stops one to see it replaced). */
  threadIds(): number[] {
    return this.threads.map((thread) => thread.threadId);
  }

  /** Ends one thread as a crash would (the suite's fault test): its batches fail and it is replaced. */
  async crashThread(threadId: number): Promise<void> {
    await this.threads.find((thread) => thread.threadId === threadId)?.crash();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.threads].map((thread) => thread.stop('the service is stopping')));
  }

  /** A job on a thread for this batch, or undefined when it is better evaluated in place. */
  start(snapshot: RuleSetSnapshot, request: EvaluationRequest): EvaluationJob | undefined {
    if (!this.script || this.stopping || snapshot !== this.sentSnapshot) return undefined;
    const { contentLength } = request;
    if (contentLength === undefined || contentLength < this.config.ingest.evaluationThreadMinBytes)
      return undefined;
    if (snapshot.ruleSet.hasBackendRules || !onlyBuiltInRuleFormats() || !onlyBuiltInLogTypes())
      return undefined;
    this.spawn();
    // Among the threads that hold the rules (until one does, batches are evaluated in place), the one
    // with the fewest characters waiting, then the fewest batches.
    const ready = this.threads.filter((thread) => thread.started);
    if (ready.length === 0) return undefined;
    const thread = ready.reduce((best, candidate) =>
      candidate.backlog < best.backlog ||
      (candidate.backlog === best.backlog && candidate.jobCount < best.jobCount)
        ? candidate
        : best,
    );
    const id = this.nextJob++;
    this.batchesOnThreads += 1;
    thread.send({
      kind: 'start',
      job: id,
      generation: snapshot.generation,
      logType: request.logType,
      receivedAt: request.receivedAt.getTime(),
      shape: request.shape,
      limits: request.limits,
    });
    return thread.job(id);
  }

  private spawn(): void {
    if (this.spawned || !this.script || this.stopping) return;
    this.spawned = true;
    for (let count = 0; count < this.config.ingest.evaluationThreads; count++)
      this.threads.push(this.startThread());
  }

  private startThread(): EvaluationThread {
    const thread = new EvaluationThread(
      this.script as URL,
      (dead, reason) => this.replace(dead, reason),
      this.logger,
    );
    if (this.latestRules) thread.send(this.latestRules);
    return thread;
  }

  private replace(dead: EvaluationThread, reason: string): void {
    this.threads = this.threads.filter((thread) => thread !== dead);
    if (this.stopping) return;
    if (!dead.started) {
      this.logger.error(
        `an evaluation thread stopped before it could build the rules (${reason}); ${this.threads.length} left, not replaced`,
      );
      return;
    }
    this.logger.error(
      `an evaluation thread stopped (${reason}); its batches were refused with 503, starting another`,
    );
    this.threads.push(this.startThread());
  }
}
