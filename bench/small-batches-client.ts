// One load client of the small-batch benchmark, run in a worker thread: once told to go, it posts its
// share of the bodies, `inFlight` at a time on keep-alive connections, and reports its answers and how
// busy its own event loop was, so that the benchmark can tell a slow server from a saturated client.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { sendBatches } from './http-load.js';

export interface ClientTask {
  port: number;
  path: string;
  bodies: Uint8Array[];
  headers: Record<string, string>;
  inFlight: number;
}

export interface ClientReport {
  answers: unknown[];
  seconds: number;
  /** Share of the thread's time under load that its event loop was busy (near 1: the client limits). */
  utilization: number;
}

const task = workerData as ClientTask;
const bodies = task.bodies.map((body) => Buffer.from(body.buffer, body.byteOffset, body.byteLength));
parentPort?.once('message', () => {
  void (async () => {
    const startLoop = performance.eventLoopUtilization();
    const load = await sendBatches(task.port, task.path, bodies, task.headers, task.inFlight, {
      noDelay: true,
    });
    const report: ClientReport = {
      answers: load.answers,
      seconds: load.seconds,
      utilization: performance.eventLoopUtilization(startLoop).utilization,
    };
    parentPort?.postMessage(report);
  })();
});
parentPort?.postMessage('ready');
