// The seam every rule format plugs into. A format reads its source documents into rule metadata
// (RuleDefinition) and compiles a rule's detection into what the rule set needs: a predicate, or a
// backend that evaluates whole groups of events elsewhere, plus the facts the rule index relies on.
// Nothing outside a format's own folder looks inside its detection.
import type { Diagnostic } from '../diagnostics.js';
import type { RuleOutputs } from '../outputs.js';
import type { DataModelDefinition, GlobalHelperDefinition } from '../python/python-library.js';
import type { RuleDefinition, RuleTest } from '../rule.js';

export type EventPredicate = (event: unknown) => boolean;

/**
 * Where a requirement looks: a top-level key, or a path of object keys (no list index, no wildcard). Keys
 * are matched exactly, or ignoring case when the detection says `keysIgnoreCase`.
 */
interface RequirementPlace {
  /** The key, or the path joined with dots (`userIdentity.type`): for reports. */
  readonly key: string;
  /** The object keys that lead to a nested value; absent for a top-level key. */
  readonly path?: readonly string[];
}

/** The value is a string, one of these. */
export interface ValueRequirement extends RequirementPlace {
  readonly values: ReadonlySet<string>;
}

/** The value is a string that equals, starts with, ends with or contains one of the patterns. */
export interface TextRequirement extends RequirementPlace {
  readonly text: 'equals' | 'prefix' | 'suffix' | 'substring';
  readonly patterns: readonly string[];
  /** Value and patterns compared lower-cased (Panther's `I…` conditions); patterns are given lower-cased. */
  readonly ignoreCase: boolean;
  /** Lists and objects pass untested: Python's `in` asks them for an element or a key, not a substring. */
  readonly listsAndObjectsPass?: boolean;
}

/** The value is an IP address in one of these networks (CIDR; a bare address is a /32 or a /128). */
export interface NetworkRequirement extends RequirementPlace {
  readonly networks: readonly string[];
}

/** The value is there (null included). */
export interface PresenceRequirement extends RequirementPlace {
  readonly present: true;
}

/** What one value must be for a detection to match. */
export type KeyRequirement = ValueRequirement | TextRequirement | NetworkRequirement | PresenceRequirement;

/** At least one of these holds (an `or` whose every branch requires something). */
export interface AnyOfRequirement {
  readonly anyOf: readonly KeyRequirement[];
}

export type Requirement = KeyRequirement | AnyOfRequirement;

/** What the rule set may rely on about a detection, without evaluating it. */
export interface DetectionFacts {
  /**
   * Requirements that all hold whenever the detection matches (none when nothing is certain). They only
   * ever need to be necessary, never sufficient: the detection still decides. The rule index evaluates a
   * rule only on the events that meet all of them.
   */
  readonly requirements: readonly Requirement[];
  /** Whether it reads a normalised `p_` field: an event whose normalisation waits is completed first. */
  readonly readsNormalisedFields: boolean;
  /** Whether it finds keys ignoring case (Panther's event dictionaries): the rule index must, too. */
  readonly keysIgnoreCase: boolean;
}

/** A detection evaluated here, one event at a time. */
export interface InProcessDetection extends DetectionFacts {
  readonly matches: EventPredicate;
}

/** A detection a backend evaluates elsewhere (another process), a batch of events at a time. */
export interface BackendDetection extends DetectionFacts {
  readonly backend: DetectionBackend;
  /**
   * What the backend knows this detection by, in requests and tests, when not its RuleID (a version of a
   * rule being tested lives beside the version ingest runs).
   */
  readonly backendRuleId?: string;
}

/** The id a backend's requests and tests name a detection by. */
export function backendRuleIdOf(ruleId: string, detection: BackendDetection): string {
  return detection.backendRuleId ?? ruleId;
}

export type CompiledDetection = InProcessDetection | BackendDetection;

export function runsInProcess(detection: CompiledDetection): detection is InProcessDetection {
  return 'matches' in detection;
}

/**
 * Where a compile defines rules of formats that run in a backend, when not in the format's shared one:
 * checking rules against helpers not stored yet uses a backend of its own, by format name.
 */
export interface CompileContext {
  readonly backends?: ReadonlyMap<string, DetectionBackend>;
}

/** One event and the rules a backend must evaluate it with (those its index and filters left). */
export interface BackendRequest {
  readonly event: unknown;
  readonly ruleIds: readonly string[];
}

/**
 * A backend's answer for one rule on one event: whether it matched and, when the backend computes
 * them (a Python rule's title() and the like), the outputs it gave; missing outputs are computed here
 * from the rule's metadata. An error is that rule's alone.
 */
export type BackendVerdict = { matched: boolean; outputs?: Partial<RuleOutputs> } | { error: string };

/** A test's verdict from a backend: an ingest verdict, plus errors of the rule's other functions. */
export type BackendTestVerdict =
  | { error: string }
  | { matched: false }
  | { matched: true; outputs: Partial<RuleOutputs>; functionErrors: Record<string, string> };

export interface DetectionBackend {
  /** Shown in logs and errors. */
  readonly name: string;
  /** For each request, one verdict per rule id, in the request's order. */
  evaluate(requests: readonly BackendRequest[]): Promise<BackendVerdict[][]>;
  /**
   * Runs one of a rule's tests where the rule runs, with what only the backend understands (a Python
   * test's Mocks). Without it, tests are evaluated as events.
   */
  runTest?(ruleId: string, test: RuleTest, event: unknown): Promise<BackendTestVerdict>;
}

export interface ReadOptions {
  /** Shown in diagnostics. */
  file?: string;
  /** Unknown top-level keys become warnings instead of errors (Panther's `--ignore-extra-keys`). */
  ignoreExtraKeys?: boolean;
  /** How syntax errors are worded when the client said what it sent. */
  format?: 'yaml' | 'json';
  /** More documents than this in one source are refused as a whole. */
  maxDocuments?: number;
  /**
   * The text of a file named by a document (a Python rule's `Filename`) beside the source, when the
   * caller can read one; undefined when it is not there.
   */
  companionFile?: (filename: string) => string | undefined;
}

export interface ReadResult {
  /** The rules without errors, in document order. */
  rules: RuleDefinition[];
  /** Panther's global helpers (Python modules rules import), when the source holds any. */
  helpers?: GlobalHelperDefinition[];
  /** Panther's data models, when the source holds any. */
  dataModels?: DataModelDefinition[];
  /** Errors and warnings of every document. */
  diagnostics: Diagnostic[];
}

/** Reads one kind of source document (Panther's YAML, Sigma's YAML…) into rule definitions. */
export interface RuleSourceReader {
  readonly name: string;
  /** Whether a source is of this kind. Asked of plug-in readers first; Panther's reads the rest. */
  claims(text: string): boolean;
  read(text: string, options: ReadOptions): ReadResult;
}

export interface RuleFormat {
  /** Recorded with every stored rule version and shown as the rule's `detectionLanguage`. */
  readonly name: string;
  /** Reads the documents this format's rules are written in; formats may share a reader. */
  readonly reader: RuleSourceReader;
  /** Compiles a definition whose `detection.language` is this format's name. */
  compile(definition: RuleDefinition, context?: CompileContext): CompiledDetection;
}
