// One sandboxed Python worker process and the framed JSON conversation with it: one request at a time,
// each answered by one frame; while it works, the worker may ask for cache operations, answered here.
// A request that outlives its deadline kills the process (SIGKILL): nothing inside Python can hold out
// against that, and the pool starts another.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { workerCommand, type PythonSandboxOptions } from './sandbox.js';

/** Must equal PROTOCOL in python/worker.py. */
export const PYTHON_PROTOCOL = 1;

const HEADER_BYTES = 4;
/** What the worker may answer at most; more is a broken worker. */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;
/** The last lines the worker wrote to stderr (print() in a rule, Python's own errors), for errors. */
const STDERR_LINES_KEPT = 20;

export type JsonMessage = Record<string, unknown>;

/** Answers a worker's cache request; what it throws goes back to the rule as an error. */
export type CacheHandler = (operation: string, args: Record<string, unknown>) => Promise<unknown>;

export class PythonWorkerError extends Error {}

/** The worker ended or was ended while a request was in flight. */
export class PythonWorkerDied extends PythonWorkerError {}

/** The request took longer than its deadline; the worker was killed. */
export class PythonDeadlineExceeded extends PythonWorkerError {}

interface Pending {
  resolve(message: JsonMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class PythonWorker {
  readonly hello: Promise<JsonMessage>;
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private buffered: Buffer = Buffer.alloc(0);
  /** Chunks read since `buffered`, and how many more bytes the frame in progress needs. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private needed = 0;
  private pending?: Pending;
  private helloWaiter?: { resolve(message: JsonMessage): void; reject(error: Error): void };
  private exited = false;
  private killed = false;
  private readonly stderrLines: string[] = [];
  /** The rule-set generation this worker has loaded (see PythonRuntime). */
  loadedGeneration = -1;

  constructor(
    options: PythonSandboxOptions,
    private readonly onCache: CacheHandler,
  ) {
    const { command, args } = workerCommand(options);
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.hello = new Promise<JsonMessage>((resolve, reject) => (this.helloWaiter = { resolve, reject }));
    // Read by the caller through ready(); this keeps an early failure from being an unhandled rejection.
    this.hello.catch(() => undefined);
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => this.keepStderr(text));
    this.child.stdin.on('error', () => undefined); // a dead worker's pipe; reported through 'exit'
    this.child.on('error', (error) =>
      this.fail(new PythonWorkerDied(`the worker could not start: ${error.message}`)),
    );
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      const how = signal !== null ? `was killed (${signal})` : `exited with code ${code}`;
      this.fail(new PythonWorkerDied(`the Python worker ${how}${this.lastWords()}`));
    });
  }

  /** False from the moment it is killed, before the process has gone: it takes no more requests. */
  get alive(): boolean {
    return !this.exited && !this.killed;
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** The worker's hello, checked: the protocol it speaks, its Python, and dateutil's presence. */
  async ready(): Promise<JsonMessage> {
    const hello = await this.hello;
    if (hello.protocol !== PYTHON_PROTOCOL)
      throw new PythonWorkerError(
        `the Python worker speaks protocol ${String(hello.protocol)}, this server ${PYTHON_PROTOCOL}`,
      );
    return hello;
  }

  /** Sends one request and waits for its answer, at most `deadlineMs`. */
  request(message: JsonMessage, deadlineMs: number): Promise<JsonMessage> {
    if (!this.alive) return Promise.reject(new PythonWorkerDied('the Python worker has exited'));
    if (this.pending) return Promise.reject(new PythonWorkerError('the Python worker is busy'));
    return new Promise<JsonMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.kill();
        reject(new PythonDeadlineExceeded(`the Python worker did not answer within ${deadlineMs} ms`));
      }, deadlineMs);
      this.pending = { resolve, reject, timer };
      this.write(message);
    });
  }

  kill(): void {
    this.killed = true;
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Closes the worker's stdin: it finishes and exits. */
  close(): void {
    this.child.stdin.end();
  }

  private write(message: JsonMessage): void {
    // The text is written as it is: no copy of a request of many megabytes into a buffer first.
    const body = JSON.stringify(message);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(Buffer.byteLength(body, 'utf8'), 0);
    this.child.stdin.write(header);
    this.child.stdin.write(body, 'utf8');
  }

  private onData(chunk: Buffer): void {
    // A large answer arrives in many chunks: they are joined once it is whole, not chunk by chunk.
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.chunkBytes < this.needed) return;
    this.buffered =
      this.buffered.length === 0 && this.chunks.length === 1
        ? chunk
        : Buffer.concat([this.buffered, ...this.chunks]);
    this.chunks = [];
    this.chunkBytes = 0;
    this.needed = 0;
    while (this.buffered.length >= HEADER_BYTES) {
      const length = this.buffered.readUInt32BE(0);
      if (length > MAX_ANSWER_BYTES) {
        this.kill();
        this.fail(new PythonWorkerError(`the Python worker sent a frame of ${length} bytes`));
        return;
      }
      if (this.buffered.length < HEADER_BYTES + length) {
        this.needed = HEADER_BYTES + length - this.buffered.length;
        return;
      }
      const body = this.buffered.subarray(HEADER_BYTES, HEADER_BYTES + length).toString('utf8');
      this.buffered = this.buffered.subarray(HEADER_BYTES + length);
      let message: unknown;
      try {
        message = JSON.parse(body);
      } catch {
        this.kill();
        this.fail(new PythonWorkerError('the Python worker sent a frame that is not JSON'));
        return;
      }
      this.onMessage(message as JsonMessage);
    }
  }

  private onMessage(message: JsonMessage): void {
    if (message.op === 'hello' && this.helloWaiter) {
      this.helloWaiter.resolve(message);
      this.helloWaiter = undefined;
      return;
    }
    if (message.op === 'cache') {
      void this.answerCache(message);
      return;
    }
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  private async answerCache(message: JsonMessage): Promise<void> {
    const args = (
      typeof message.arguments === 'object' && message.arguments !== null ? message.arguments : {}
    ) as Record<string, unknown>;
    try {
      const value = await this.onCache(String(message.operation), args);
      if (!this.exited) this.write({ value: value ?? null });
    } catch (error) {
      if (!this.exited) this.write({ error: error instanceof Error ? error.message : String(error) });
    }
  }

  private fail(error: Error): void {
    if (this.helloWaiter) {
      this.helloWaiter.reject(error);
      this.helloWaiter = undefined;
    }
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  private keepStderr(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.stderrLines.push(line.slice(0, 500));
      if (this.stderrLines.length > STDERR_LINES_KEPT) this.stderrLines.shift();
    }
  }

  private lastWords(): string {
    const tail = this.stderrLines.slice(-3).join(' | ');
    return tail === '' ? '' : `: ${tail}`;
  }
}
