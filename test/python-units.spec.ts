// The Python side's own unit tests (python/tests: the event object, data-model paths, policyuniverse), run
// with the host's Python 3 as the workers run it, outside the sandbox: they test pure functions.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_OPTIONS } from '../src/engine/python/sandbox.js';
import { REPO_ROOT } from './support/shared.js';

const PYTHON = DEFAULT_SANDBOX_OPTIONS.python;
const probe = spawnSync(PYTHON, ['-c', 'import dateutil'], { encoding: 'utf8' });
const MISSING =
  probe.error !== undefined || probe.status !== 0
    ? `${PYTHON} with python-dateutil is absent (Debian: python3 python3-dateutil)`
    : undefined;

describe.skipIf(MISSING !== undefined)(
  MISSING === undefined
    ? 'the Python runtime’s unit tests'
    : `the Python runtime’s unit tests — SKIPPED: ${MISSING}`,
  () => {
    it('pass under the host’s Python 3', () => {
      const run = spawnSync(PYTHON, ['-I', '-B', '-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
        cwd: join(REPO_ROOT, 'python'),
        encoding: 'utf8',
      });
      expect(run.stderr).toMatch(/\nOK\n?$/);
      expect(run.status).toBe(0);
    });
  },
);
