// The Python runtime's settings as the service's configuration gives them (PYTHON_*, TRIPLINE_PYTHON).
import type { AppConfig } from '../config/config.js';
import type { PythonRuntimeOptions } from '../engine/python/python-runtime.js';

export function pythonRuntimeOptions(
  config: AppConfig['python'],
): Pick<PythonRuntimeOptions, 'sandbox' | 'workers' | 'requestDeadlineMs'> {
  return {
    sandbox: {
      python: config.interpreter,
      bwrap: config.bwrap,
      memoryMb: config.workerMemoryMb,
      callSeconds: config.callSeconds,
    },
    workers: config.workers,
    requestDeadlineMs: config.requestDeadlineMs,
  };
}
