// What Panther's Python content is made of besides rules: global helpers (modules rules import by their
// GlobalID) and data models (per log type, the names `event.udm()` reads). Read from Panther's YAML by
// panther/library-file.ts; run by the Python runtime.
import type { Detection } from '../rule.js';

/** A rule whose logic is a Python body (`Filename`), run in the sandboxed workers. */
export interface PythonRuleDetection extends Detection {
  readonly language: 'python';
  /** As the rule file names it: `aws_vpce_external_principal.py`. */
  readonly filename: string;
  readonly body: string;
}

export function isPythonDetection(detection: Detection): detection is PythonRuleDetection {
  return detection.language === 'python';
}

interface DocumentSource {
  file?: string;
  line: number;
  text: string;
}

export interface GlobalHelperDefinition {
  /** The module name rules import it by. */
  globalId: string;
  filename: string;
  body: string;
  description?: string;
  source: DocumentSource;
}

/** A data model name read through a path into the event, or through a function of the model's body. */
export interface DataModelMapping {
  name: string;
  path?: string;
  method?: string;
}

export interface DataModelDefinition {
  dataModelId: string;
  displayName?: string;
  enabled: boolean;
  logTypes: string[];
  mappings: DataModelMapping[];
  filename?: string;
  body?: string;
  source: DocumentSource;
}

/** The helpers and data models a set of Python rules runs with. */
export interface PythonLibrary {
  helpers: readonly GlobalHelperDefinition[];
  dataModels: readonly DataModelDefinition[];
}

export const EMPTY_LIBRARY: PythonLibrary = { helpers: [], dataModels: [] };
