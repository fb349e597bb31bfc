// The built server (dist/src/main.js) as a child process, as a user or an orchestrator runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_ADMIN_KEY } from './app.js';
import { REPO_ROOT } from './shared.js';

export const MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');

export interface Server {
  process: ChildProcess;
  url: string;
  output: () => string;
}

export function start(cwd: string, env: Record<string, string> = {}): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd,
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'log', TRIPLINE_ADMIN_KEY: TEST_ADMIN_KEY, ...env },
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+) /.exec(output);
      if (match?.[1]) resolve({ process: child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

/** SIGTERM; resolves true when the process closed by itself (exit 0, or re-raising the signal after closing). */
export function stop(server: Server): Promise<boolean> {
  return new Promise((resolve) => {
    server.process.removeAllListeners('exit');
    server.process.on('exit', (code, signal) => resolve(code === 0 || signal === 'SIGTERM'));
    server.process.kill('SIGTERM');
  });
}

/** Runs the server to its end (for starts that must fail); what it wrote to each stream. */
export function run(
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Kills the process at once, as a power cut or an OOM killer would. */
export function kill(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.process.removeAllListeners('exit');
    server.process.on('exit', () => resolve());
    server.process.kill('SIGKILL');
  });
}
