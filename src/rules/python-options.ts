// The Python runtime's settings as the service's configuration gives them (PYTHON_*, TRIPLINE_PYTHON),
// and the runtime this service's Python rules run in: one per application, not per process.
import type { Provider } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PythonRuntime, type PythonRuntimeOptions } from '../engine/python/python-runtime.js';

/** Injection token of the application's PythonRuntime. */
export const PYTHON_RUNTIME = Symbol('PYTHON_RUNTIME');

export const pythonRuntimeProvider: Provider = {
  provide: PYTHON_RUNTIME,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => new PythonRuntime(pythonRuntimeOptions(config.python)),
};

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
