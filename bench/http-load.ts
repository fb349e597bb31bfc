// The load client and the child processes it talks to: one client, a few keep-alive requests in flight,
// the same for the real server and for the bare floor server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';

export interface ChildServer {
  child: ChildProcess;
  port: number;
  /** What the process wrote, for the message when it fails. */
  output: () => string;
}

/** A port free right now: the child is told which to use, so it need not log where it listens. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_KEPT_OUTPUT = 64 * 1024;

/** Starts `node script` in `cwd` with PORT set and waits until `readyPath` answers 200 (asked every `pollMs`). */
export async function startChild(
  script: string,
  env: Record<string, string>,
  readyPath: string,
  options: { cwd?: string; timeoutMs?: number; pollMs?: number; nodeOptions?: readonly string[] } = {},
): Promise<ChildServer> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const pollMs = options.pollMs ?? 100;
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), script], {
    cwd: options.cwd,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-MAX_KEPT_OUTPUT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? String(code)}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`${script} ${exited} before it was ready:\n${output}`);
    try {
      const answer = await requestJson(port, 'GET', readyPath);
      if (answer.status === 200) return { child, port, output: () => output };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} was not ready within ${timeoutMs / 1000} s:\n${output}`);
    }
    await sleep(pollMs);
  }
}

/** SIGTERM, then SIGKILL if it has not exited within the grace period. */
export function stopChild(server: ChildServer, graceMs = 30_000): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** One request on a fresh connection, for setup and checks (not timed). */
export function requestJson(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON: keep the text for the message.
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

export interface LoadResult {
  seconds: number;
  /** The parsed answer to each batch, by batch index. */
  answers: unknown[];
}

/**
 * Sends every body as one POST, `concurrency` at a time over keep-alive connections, from this one
 * client; any answer but 200 stops the run with its body. `noDelay` turns Nagle's algorithm off on the
 * client's sockets: a small request written as headers then body otherwise waits for the server's
 * delayed ACK (about 40 ms), which bounds a small-batch floor at concurrency / 40 ms.
 */
export async function sendBatches(
  port: number,
  path: string,
  bodies: readonly Buffer[],
  headers: Record<string, string>,
  concurrency: number,
  options: { noDelay?: boolean } = {},
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, noDelay: options.noDelay ?? false });
  const answers = new Array<unknown>(bodies.length);
  const post = (body: Buffer) =>
    new Promise<unknown>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path,
          agent,
          headers: { ...headers, 'content-length': body.length },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== 200) {
              reject(new Error(`POST ${path}: ${response.statusCode ?? 0} ${text.slice(0, 2000)}`));
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const index = next++;
      answers[index] = await post(bodies[index] as Buffer);
    }
  };
  const started = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, answers };
}

/** A /proc/<pid>/status field in kB, or undefined where there is no /proc (not Linux) or no such field. */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export interface MemoryReport {
  /** The kernel's high-water mark of resident memory, read after the load (VmHWM), in MB (10^6 bytes). */
  peakMb: number | undefined;
  /** The highest VmRSS seen by sampling every 100 ms, in MB. */
  sampledPeakMb: number | undefined;
  samples: number;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU time a process has used so far, user and system, in seconds (all its threads), from
 * /proc/PID/stat; undefined where there is no /proc.
 */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The fields after the command name, which is in parentheses and may hold spaces: state is the first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Samples a process's resident memory every 100 ms until stopped. */
export class MemorySampler {
  private readonly timer: NodeJS.Timeout;
  private highestKb: number | undefined;
  private samples = 0;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const kb = statusKb(this.pid, 'VmRSS');
    if (kb === undefined) return;
    this.samples += 1;
    this.highestKb = Math.max(this.highestKb ?? 0, kb);
  }

  stop(): MemoryReport {
    clearInterval(this.timer);
    this.sample();
    const hwm = statusKb(this.pid, 'VmHWM');
    // MB of 10^6 bytes; /proc counts kB of 1024 bytes.
    const toMb = (kb: number | undefined) => (kb === undefined ? undefined : (kb * 1024) / 1e6);
    return { peakMb: toMb(hwm), sampledPeakMb: toMb(this.highestKb), samples: this.samples };
  }
}

/** NDJSON bodies of `size` lines each. */
export function ndjsonBatches(lines: readonly string[], size: number): Buffer[] {
  const bodies: Buffer[] = [];
  for (let start = 0; start < lines.length; start += size)
    bodies.push(Buffer.from(`${lines.slice(start, start + size).join('\n')}\n`));
  return bodies;
}
