// Panther's Python rules as a rule format: read by Panther's reader (a rule with `Filename`), run by the
// shared Python runtime, a batch of events at a time, in its sandboxed workers.
import type { CompileContext, CompiledDetection, RuleFormat } from '../formats/rule-format.js';
import { pantherRuleReader } from '../panther/rule-file.js';
import type { RuleDefinition } from '../rule.js';
import { isPythonDetection } from './python-library.js';
import { PythonRuntime, sharedPythonRuntime } from './python-runtime.js';

export const pythonRuleFormat: RuleFormat = {
  name: 'python',
  reader: pantherRuleReader,
  compile(definition: RuleDefinition, context?: CompileContext): CompiledDetection {
    const detection = definition.detection;
    if (!isPythonDetection(detection)) throw new Error(`rule ${definition.ruleId} is not a Python rule`);
    const own = context?.backends?.get('python');
    const runtime = own instanceof PythonRuntime ? own : sharedPythonRuntime();
    const backendRuleId = runtime.defineRule(
      definition.ruleId,
      detection.filename,
      detection.body,
      definition.logTypes,
    );
    // Nothing is certain about what Python reads until its guards are extracted: every event of the
    // rule's log types is a candidate. Panther's event objects find keys ignoring case.
    return {
      backend: runtime,
      backendRuleId,
      requirements: [],
      readsNormalisedFields: true,
      keysIgnoreCase: true,
    };
  },
};
