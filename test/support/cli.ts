// Runs the real `tripline` bin in a child process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export const BIN = join(REPO_ROOT, 'bin', 'tripline.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function tripline(
  args: string[],
  options: { stdin?: Buffer; nodeOptions?: string[]; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeOptions ?? []), BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin);
  });
}
