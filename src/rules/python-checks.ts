// Checks of Python content against helpers and data models that are not stored yet (an upload of a
// helper, an import that brings its own): a runtime of its own holds the candidate library, so that the
// workers ingest uses never see it. One check at a time: the candidate is the runtime's whole state.
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { compileRule } from '../engine/compile.js';
import type { CompileContext } from '../engine/formats/rule-format.js';
import type { PythonLibrary } from '../engine/python/python-library.js';
import { PythonRuntime, type PythonLoadReport } from '../engine/python/python-runtime.js';
import type { RuleDefinition } from '../engine/rule.js';
import { testRule, type RuleTestResult } from '../engine/test-runner.js';
import { pythonRuntimeOptions } from './python-options.js';

/** What a candidate library does to the Python rules that must keep working with it. */
export interface LibraryCheck {
  /** Python's errors loading each helper and data model, by id. */
  helperErrors: Record<string, string>;
  dataModelErrors: Record<string, string>;
  /** Each rule's tests, run against the candidate library. */
  tests: Map<string, RuleTestResult[]>;
}

@Injectable()
export class PythonChecks implements OnApplicationShutdown {
  private readonly runtime: PythonRuntime;
  private queue: Promise<unknown> = Promise.resolve();
  private library: PythonLibrary | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.runtime = new PythonRuntime(pythonRuntimeOptions(config.python));
  }

  /** Compiles against the candidate library: what `work` compiles with `context` runs beside it. */
  withLibrary<T>(
    library: PythonLibrary,
    work: (context: CompileContext, loadReport: () => Promise<PythonLoadReport>) => Promise<T>,
  ): Promise<T> {
    const run = async () => {
      if (library !== this.library) {
        this.runtime.setLibrary(library);
        this.library = library;
      }
      try {
        return await work({ backends: new Map([['python', this.runtime]]) }, () => this.runtime.loadReport());
      } finally {
        this.runtime.retain(new Set());
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Loads the candidate library and runs the tests of `rules` with it. */
  check(library: PythonLibrary, rules: readonly RuleDefinition[]): Promise<LibraryCheck> {
    return this.withLibrary(library, async (context, loadReport) => {
      const tests = new Map<string, RuleTestResult[]>();
      for (const definition of rules)
        tests.set(definition.ruleId, await testRule(compileRule(definition, context)));
      const report = await loadReport();
      return { helperErrors: report.helperErrors, dataModelErrors: report.dataModelErrors, tests };
    });
  }

  onApplicationShutdown(): void {
    this.runtime.close();
  }
}
