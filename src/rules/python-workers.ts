// The service's side of the Python runtime (engine/python): says at start-up whether Python rules can run
// here and what to install when they cannot, and ends the sandboxed workers when the service stops.
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { sharedPythonRuntime } from '../engine/python/python-runtime.js';

@Injectable()
export class PythonWorkers implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PythonWorkers.name);

  onModuleInit(): void {
    const problem = sharedPythonRuntime().problem();
    if (problem !== undefined)
      this.logger.warn(`${problem}; YAML rules are not affected (see docs/python-rules.md)`);
    else
      this.logger.log(
        'Python rules run in sandboxed workers (bubblewrap and seccomp), started when first needed',
      );
  }

  onApplicationShutdown(): void {
    sharedPythonRuntime().close();
  }
}
