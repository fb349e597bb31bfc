// How a Python rule worker is started: inside bubblewrap, with new user, mount, PID, network, IPC and UTS
// namespaces, a read-only /usr (the host's Python and its Debian modules), the runtime's own folder
// read-only at /tripline, a small private /tmp, and nothing else of the host: no /etc, no /home, no
// database file, no network. The worker then limits its memory and installs its seccomp filter itself
// (python/tripline_runtime/confinement.py) before it reads any rule.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PythonSandboxOptions {
  /** The Python interpreter; must live under /usr, the only host folder the sandbox shows. */
  python: string;
  /** bubblewrap. */
  bwrap: string;
  /** Address-space limit of a worker. */
  memoryMb: number;
  /** Time limit of one rule function call, inside the worker. */
  callSeconds: number;
}

export const DEFAULT_SANDBOX_OPTIONS: PythonSandboxOptions = {
  python: process.env.TRIPLINE_PYTHON ?? '/usr/bin/python3',
  bwrap: process.env.TRIPLINE_BWRAP ?? '/usr/bin/bwrap',
  memoryMb: Number(process.env.PYTHON_WORKER_MEMORY_MB ?? 1024),
  callSeconds: Number(process.env.PYTHON_CALL_SECONDS ?? 2),
};

/** Where the worker lives inside the sandbox. */
const RUNTIME_MOUNT = '/tripline';

/** The repository's `python/` folder, from src/ or from dist/src/. */
export function runtimeFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    const candidate = join(folder, 'python', 'worker.py');
    if (existsSync(candidate)) return dirname(candidate);
    folder = resolve(folder, '..');
  }
  throw new Error('the Python runtime (python/worker.py) is missing from this installation');
}

/**
 * What is missing for Python rules to run, as an instruction a person can follow; undefined when
 * nothing is.
 */
export function sandboxProblem(options: PythonSandboxOptions): string | undefined {
  const missing: string[] = [];
  if (!isExecutable(options.python))
    missing.push(`Python 3 at ${options.python} (Debian: apt-get install python3)`);
  if (!isExecutable(options.bwrap))
    missing.push(`bubblewrap at ${options.bwrap} (Debian: apt-get install bubblewrap)`);
  if (missing.length > 0) return `Python rules cannot run: missing ${missing.join(' and ')}`;
  if (!options.python.startsWith('/usr/'))
    return `Python rules cannot run: the interpreter must live under /usr (the only host folder the sandbox shows), not ${options.python}`;
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The command line that starts one sandboxed worker. */
export function workerCommand(options: PythonSandboxOptions): { command: string; args: string[] } {
  const args = [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--clearenv',
    '--setenv',
    'LANG',
    'C.UTF-8',
    '--setenv',
    'PYTHONDONTWRITEBYTECODE',
    '1',
    // The same order of sets on every run (a rule's string set from the cache, say): results repeat.
    '--setenv',
    'PYTHONHASHSEED',
    '0',
    '--ro-bind',
    '/usr',
    '/usr',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '--symlink',
    'usr/bin',
    '/bin',
    '--ro-bind',
    runtimeFolder(),
    RUNTIME_MOUNT,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(16 * 1024 * 1024),
    '--tmpfs',
    '/tmp',
    '--chdir',
    '/tmp',
    options.python,
    // No user site; the environment is bubblewrap's, cleared but for the variables above.
    '-s',
    '-B',
    `${RUNTIME_MOUNT}/worker.py`,
    '--memory-mb',
    String(options.memoryMb),
    '--call-seconds',
    String(options.callSeconds),
  ];
  return { command: options.bwrap, args };
}
