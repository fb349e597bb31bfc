// Rules: upload, versions, enable/disable, delete, tests, packs. The engine decides what a rule means;
// this service keeps every version and tells the active rule set when something changed.
import { Inject, Injectable } from '@nestjs/common';
import { parseDocument } from 'yaml';
import { SYSTEM_ACTOR, type Actor, type AuditEntry } from '../audit/audit.service.js';
import { InvalidParametersError, NotFoundError, UnprocessableError } from '../common/errors.js';
import type { CompiledRule } from '../engine/compile.js';
import { prepareEvent } from '../engine/events.js';
import { readStoredRule } from '../engine/formats/registry.js';
import { isRuleIdShaped } from '../engine/panther/rule-file.js';
import { rejectDuplicateRuleIds } from '../engine/pack.js';
import { RuleSet } from '../engine/rule-set.js';
import type { RuleTestResult } from '../engine/test-runner.js';
import type { RuleDefinition } from '../engine/rule.js';
import { isPlainObject } from '../engine/values.js';
import type { RuleEntity, RuleOrigin, RuleVersionEntity } from '../storage/entities.js';
import { ActiveRuleSet } from './active-rule-set.service.js';
import { PythonChecks } from './python-checks.js';
import {
  RULE_STORE,
  type CurrentVersionChange,
  type NewRule,
  type NewRuleVersion,
  type PackRuleState,
  type RuleStore,
  type RuleTransaction,
  type StoredRule,
} from './rule-store.js';
import { InvalidRuleError, RuleTestsFailedError } from './rule-errors.js';
import { checkLibraryChange } from '../library/library-change.js';
import { readLibrarySource, type LibraryDocument } from '../library/library-source.js';
import type { Diagnostic } from '../engine/diagnostics.js';
import type { LibraryKind, LibraryVersions } from '../storage/entities.js';
import type { PackSource } from './rule-tree.js';
import {
  checkRuleSources,
  compileParsedRule,
  parseRuleSources,
  formatOf,
  metadataOf,
  testReadRule,
  testsPassed,
  type CheckedRule,
  type ReadRule,
  type SourceFormat,
} from './rule-source.js';
import {
  detailView,
  diagnosticView,
  summaryView,
  testResultView,
  versionView,
  type DiagnosticView,
  type RuleDetailView,
  type RuleSummaryView,
  type RuleVersionView,
  type TestResultView,
} from './rule-views.js';

export interface UploadOptions {
  format: SourceFormat;
  ignoreExtraKeys: boolean;
  /** Store a rule whose tests fail, disabled, instead of refusing it. */
  storeDisabled: boolean;
  origin: RuleOrigin;
  /** Who uploads: recorded on the version and in the audit trail. */
  actor: Actor;
}

export type UploadAction = 'created' | 'updated' | 'unchanged';

export interface UploadResult {
  action: UploadAction;
  rule: RuleSummaryView;
  tests: TestResultView[];
  warnings: DiagnosticView[];
}

export interface RuleListFilters {
  logType?: string;
  enabled?: boolean;
  severity?: string[];
  tag?: string;
  q?: string;
  limit: number;
  cursor?: string;
}

export interface ImportReportItem {
  ruleId: string;
  action: UploadAction;
  version: number;
  enabled: boolean;
  tests: { passed: number; failed: number };
  failedTests?: TestResultView[];
}

/** What an import did with one of its global helpers or data models. */
export interface ImportLibraryItem {
  kind: 'global_helper' | 'data_model';
  id: string;
  action: UploadAction;
  version: number;
}

export interface ImportReport {
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  rules: ImportReportItem[];
  /** The pack's global helpers and data models. */
  library: ImportLibraryItem[];
  warnings: DiagnosticView[];
}

const LIBRARY_TARGETS: Record<LibraryKind, ImportLibraryItem['kind']> = {
  global: 'global_helper',
  datamodel: 'data_model',
};

/** The helper and data model versions a pack's Python rules were tested with: the active ones, as the pack changes them. */
function libraryVersionsAfter(
  active: LibraryVersions,
  imported: readonly ImportLibraryItem[],
): LibraryVersions {
  const after: LibraryVersions = { globals: { ...active.globals }, dataModels: { ...active.dataModels } };
  for (const item of imported) {
    if (item.kind === 'global_helper') after.globals[item.id] = item.version;
    else after.dataModels[item.id] = item.version;
  }
  return after;
}

/** A GlobalID or DataModelID that a pack defines twice. */
function duplicateLibraryIds(documents: readonly LibraryDocument[]): Diagnostic[] {
  const seen = new Set<string>();
  const problems: Diagnostic[] = [];
  for (const document of documents) {
    const key = `${document.kind}:${document.itemId}`;
    if (seen.has(key)) {
      const what = document.kind === 'global' ? 'GlobalID' : 'DataModelID';
      problems.push({
        severity: 'error',
        code: 'duplicate_id',
        message: `${what} ${document.itemId} is defined twice in the pack`,
        key: what,
        line: (document.helper ?? document.dataModel)?.source.line,
      });
    }
    seen.add(key);
  }
  return problems;
}

/** What the built-in pack did with one of its rules. */
export type BuiltinOutcome = 'created' | 'updated' | 'unchanged' | 'kept-user-version' | 'kept-deleted';

export interface BuiltinPackInstall {
  /** What became of each rule, by RuleID. */
  outcomes: Map<string, BuiltinOutcome>;
  /**
   * The pack's compiled rules, by the id of the stored version each one is (a created, updated or
   * unchanged rule): the active set need not read them back from their source.
   */
  compiled: Map<number, CompiledRule>;
  /** The tests of each rule stored as a new version; the others were tested when their version was stored. */
  tests: Map<string, RuleTestResult[]>;
}

export interface EventTestResult {
  index: number;
  matched: boolean;
  logType?: string;
  error?: string;
  title?: string;
  dedup?: string;
  severity?: string;
  outputFields?: Record<string, unknown>;
}

/** Rules in one imported pack: each is parsed, compiled and tested before anything is stored. */
export const MAX_PACK_RULES = 2000;

/** Rule ids are also URL segments; the cursor of the rule list is the last id of a page. */
function encodeCursor(ruleId: string): string {
  return Buffer.from(ruleId, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const ruleId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (ruleId === '' || encodeCursor(ruleId) !== cursor) {
    throw new InvalidParametersError([
      { parameter: 'cursor', message: 'not a cursor returned by this list' },
    ]);
  }
  return ruleId;
}

@Injectable()
export class RulesService {
  constructor(
    @Inject(RULE_STORE) private readonly ruleStore: RuleStore,
    private readonly activeRules: ActiveRuleSet,
    private readonly checks: PythonChecks,
  ) {}

  /** Checks one rule source: exactly one valid rule, or a 422 naming every problem. */
  async checkOne(
    text: string,
    options: Pick<UploadOptions, 'ignoreExtraKeys'> & { format?: SourceFormat; ruleFormat?: string },
  ): Promise<CheckedRule & { warnings: DiagnosticView[] }> {
    // Uploaded Python runs its tests in workers of its own, never in the ones ingest uses.
    const { rules, problems } = await this.checks.withLibrary(
      this.activeRules.snapshot().library.python,
      (context) => checkRuleSources(text, { ...options, context }),
    );
    if (problems.errors.length > 0) throw new InvalidRuleError(problems.errors, problems.warnings);
    if (rules.length !== 1) {
      throw new UnprocessableError(
        'multiple_rules',
        `the body holds ${rules.length} rules; this operation takes one (send a pack to POST /v1/rules/import)`,
      );
    }
    const checked = rules[0] as CheckedRule;
    return {
      ...checked,
      ...this.testedWith(checked),
      warnings: problems.warnings.map(diagnosticView),
    };
  }

  /** For a Python rule, the stored helpers and data models its tests just ran with. */
  private testedWith(rule: CheckedRule): Pick<CheckedRule, 'libraryVersions'> {
    if (rule.definition.detection.language !== 'python') return {};
    return { libraryVersions: this.activeRules.snapshot().library.versions };
  }

  /** Creates a rule, or stores a new version of it when the source differs from its current one. */
  async upsert(text: string, options: UploadOptions): Promise<UploadResult> {
    return this.store(await this.checkOne(text, options), options);
  }

  /** A new version of an existing rule; the body's RuleID must be the one in the path. */
  async replace(ruleId: string, text: string, options: UploadOptions): Promise<UploadResult> {
    const checked = await this.checkOne(text, options);
    if (checked.definition.ruleId !== ruleId) {
      throw new UnprocessableError(
        'rule_id_mismatch',
        `the body defines RuleID ${JSON.stringify(checked.definition.ruleId)}, not ${JSON.stringify(ruleId)}`,
      );
    }
    return this.store(checked, options, (rules) => this.requireRule(rules, ruleId));
  }

  /** Refuses failing tests (unless storeDisabled), stores the version, and swaps the active rule set. */
  private async store(
    checked: CheckedRule & { warnings: DiagnosticView[] },
    options: UploadOptions,
    precondition?: (rules: RuleTransaction) => Promise<unknown>,
  ): Promise<UploadResult> {
    if (!options.storeDisabled && !testsPassed(checked)) {
      throw new RuleTestsFailedError(checked.definition.ruleId, checked.tests);
    }
    const stored = await this.ruleStore.write(async (rules) => {
      await precondition?.(rules);
      return this.storeVersion(rules, checked, options);
    });
    if (stored.action !== 'unchanged') await this.activeRules.refresh();
    return {
      action: stored.action,
      rule: summaryView(stored.rule, stored.version),
      tests: checked.tests.map(testResultView),
      warnings: checked.warnings,
    };
  }

  async setEnabled(ruleId: string, enabled: boolean, actor: Actor): Promise<RuleSummaryView> {
    const stored = await this.ruleStore.write(async (rules) => {
      await rules.lockRules([ruleId]);
      const found = await this.requireRule(rules, ruleId);
      if (found.rule.enabled !== enabled) {
        found.rule.enabled = enabled;
        found.rule.updatedAt = new Date();
        await rules.saveRule(found.rule);
        await rules.recordAudit(actor, {
          action: enabled ? 'rule.enable' : 'rule.disable',
          targetType: 'rule',
          targetId: ruleId,
          details: { version: found.version.version },
        });
      }
      return found;
    });
    await this.activeRules.refresh();
    return summaryView(stored.rule, stored.version);
  }

  /** Deletes a rule; its versions stay so that past hits still name them. */
  async delete(ruleId: string, actor: Actor): Promise<void> {
    await this.ruleStore.write(async (rules) => {
      await rules.lockRules([ruleId]);
      const found = await this.requireRule(rules, ruleId);
      found.rule.deletedAt = new Date();
      found.rule.updatedAt = found.rule.deletedAt;
      await rules.saveRule(found.rule);
      await rules.recordAudit(actor, {
        action: 'rule.delete',
        targetType: 'rule',
        targetId: ruleId,
        details: { version: found.version.version },
      });
    });
    await this.activeRules.refresh();
  }

  async get(ruleId: string): Promise<RuleDetailView> {
    const found = await this.ruleStore.read((rules) => this.requireRule(rules, ruleId));
    return detailView(found.rule, found.version, this.definitionOf(found.version));
  }

  async list(filters: RuleListFilters): Promise<{ items: RuleSummaryView[]; nextCursor: string | null }> {
    const after = filters.cursor !== undefined ? decodeCursor(filters.cursor) : undefined;
    const all = await this.ruleStore.read((rules) => rules.currentRules());
    const q = filters.q?.toLowerCase();
    const tag = filters.tag?.toLowerCase();
    const severities = filters.severity?.map((severity) => severity.toLowerCase());
    const matching = all
      .map(({ rule, version }) => summaryView(rule, version))
      .filter(
        (rule) =>
          (after === undefined || rule.ruleId > after) &&
          (filters.logType === undefined || rule.logTypes.includes(filters.logType)) &&
          (filters.enabled === undefined || rule.enabled === filters.enabled) &&
          (severities === undefined || severities.includes(rule.severity.toLowerCase())) &&
          (tag === undefined || rule.tags.some((candidate) => candidate.toLowerCase() === tag)) &&
          (q === undefined ||
            [rule.ruleId, rule.displayName ?? '', rule.description ?? ''].some((text) =>
              text.toLowerCase().includes(q),
            )),
      );
    const items = matching.slice(0, filters.limit);
    const last = items.at(-1);
    return { items, nextCursor: matching.length > filters.limit && last ? encodeCursor(last.ruleId) : null };
  }

  async versions(ruleId: string): Promise<RuleVersionView[]> {
    return this.ruleStore.read(async (rules) => {
      const found = await this.requireRule(rules, ruleId, { includeDeleted: true });
      const versions = await rules.versions(ruleId);
      return versions.map((version) => versionView(version, found.rule.currentVersion, false));
    });
  }

  async version(ruleId: string, number: number): Promise<RuleVersionView> {
    return this.ruleStore.read(async (rules) => {
      const found = await this.requireRule(rules, ruleId, { includeDeleted: true });
      const version = await rules.version(ruleId, number);
      if (!version) throw new NotFoundError('rule_version', `${ruleId}@${number}`);
      return versionView(version, found.rule.currentVersion, true);
    });
  }

  /** Runs the rule's own tests, or evaluates the given events against its current version. */
  async test(
    ruleId: string,
    input: { events?: unknown[]; logType?: string },
  ): Promise<{ tests?: TestResultView[]; events?: EventTestResult[]; hits?: number }> {
    const found = await this.ruleStore.read((rules) => this.requireRule(rules, ruleId));
    const checked = await this.checkOne(found.version.sourceText, {
      ignoreExtraKeys: true,
      ruleFormat: found.version.format,
    });
    if (input.events === undefined) return { tests: checked.tests.map(testResultView) };
    const fallbackLogType = checked.definition.logTypes[0];
    const single = RuleSet.fromCompiled([checked.compiled]);
    const testEvent = async (index: number, event: unknown): Promise<EventTestResult> => {
      const copy: unknown = isPlainObject(event) ? structuredClone(event) : event;
      const hasOwnType = isPlainObject(copy) && typeof copy.p_log_type === 'string';
      const prepared = prepareEvent(copy, {
        logType: input.logType ?? (hasOwnType ? undefined : fallbackLogType),
        receivedAt: new Date(),
        deferNormalisation: true,
      });
      if (!prepared.ok) return { index, matched: false, error: prepared.error };
      // As ingest would: only events of the rule's log types reach it.
      const [hit] = await single.evaluateEvent(
        prepared.event,
        prepared.logType,
        undefined,
        prepared.deferred,
      );
      if (!hit) return { index, matched: false, logType: prepared.logType };
      return {
        index,
        matched: true,
        logType: prepared.logType,
        title: hit.title,
        dedup: hit.dedup,
        severity: hit.severity,
        outputFields: hit.alertContext,
      };
    };
    const results: EventTestResult[] = [];
    for (const [index, event] of input.events.entries()) results.push(await testEvent(index, event));
    return { events: results, hits: results.filter((result) => result.matched).length };
  }

  /**
   * A pack: rules, global helpers and data models, every one checked first (helpers and data models
   * load, running Python rules still pass their tests with them, the pack's rules pass theirs), then all
   * stored in one transaction, or none.
   */
  async import(
    sources: readonly PackSource[],
    options: Omit<UploadOptions, 'format'> & { dryRun: boolean; warnings?: readonly Diagnostic[] },
  ): Promise<ImportReport> {
    const readOptions = (source: PackSource) => ({
      ignoreExtraKeys: options.ignoreExtraKeys,
      format: source.format,
      ...(source.file !== undefined ? { file: source.file } : {}),
      maxDocuments: MAX_PACK_RULES,
    });
    const documents = sources.flatMap(
      (source) => readLibrarySource(source.text, readOptions(source)).documents,
    );
    const libraryProblems = duplicateLibraryIds(documents);
    const active = this.activeRules.snapshot();
    const changedDocuments = await this.ruleStore.read(async (store) => {
      const current = new Map(
        (await store.currentLibrary()).map(({ item, version }) => [`${item.kind}:${item.itemId}`, version]),
      );
      return documents.filter(
        (document) =>
          current.get(`${document.kind}:${document.itemId}`)?.contentHash !== document.contentHash,
      );
    });
    // Which running rules the pack replaces decides which ones the changed library must keep working.
    const parsed = sources.map((source) => parseRuleSources(source.text, readOptions(source)));
    const parsedRules = parsed.flatMap((result) => result.rules);
    if (parsedRules.length > MAX_PACK_RULES)
      throw new UnprocessableError(
        'too_many_rules',
        `the pack holds ${parsedRules.length} rules; at most ${MAX_PACK_RULES} are taken at once`,
      );
    let library = active.library.python;
    const parseErrors = parsed.some((result) => result.problems.errors.length > 0);
    if (changedDocuments.length > 0 && !parseErrors && libraryProblems.length === 0) {
      library = await checkLibraryChange(this.checks, active, {
        documents: changedDocuments,
        replacedRules: new Set(parsedRules.map((rule) => rule.definition.ruleId)),
      });
    }
    // A rule identical to its current version was tested when that was stored: unless the helpers it
    // runs with change, its tests are not run again (a CI pipeline pushes the whole tree every time).
    const states = await this.ruleStore.read((store) =>
      store.packStates(parsedRules.map((rule) => rule.definition.ruleId)),
    );
    const storedTests = new Map<RuleDefinition, { passed: number; failed: number }>();
    for (const rule of parsedRules) {
      const state = states.get(rule.definition.ruleId);
      const python = rule.definition.detection.language === 'python';
      if (
        state &&
        !state.rule.deletedAt &&
        state.current.contentHash === rule.contentHash &&
        !(python && changedDocuments.length > 0)
      )
        storedTests.set(rule.definition, {
          passed: state.current.testsPassed,
          failed: state.current.testsFailed,
        });
    }
    const rules = await this.checks.withLibrary(library, async (context) => {
      const checked: CheckedRule[] = [];
      for (const rule of parsedRules) {
        const read = compileParsedRule(rule, context);
        checked.push(storedTests.has(rule.definition) ? { ...read, tests: [] } : await testReadRule(read));
      }
      return checked;
    });
    const formatOfRule = new Map(
      parsed.flatMap((result, index) =>
        result.rules.map((rule) => [rule.definition, (sources[index] as PackSource).format] as const),
      ),
    );
    const testCounts = (rule: CheckedRule) =>
      storedTests.get(rule.definition) ?? {
        passed: rule.tests.filter((t) => t.passed).length,
        failed: rule.tests.filter((t) => !t.passed).length,
      };
    const problems = {
      errors: parsed.flatMap((result) => result.problems.errors),
      warnings: [...(options.warnings ?? []), ...parsed.flatMap((result) => result.problems.warnings)],
    };
    const duplicates = rejectDuplicateRuleIds(rules.map((rule) => rule.definition)).diagnostics;
    const errors = [...problems.errors, ...duplicates, ...libraryProblems];
    if (errors.length > 0) throw new InvalidRuleError(errors, problems.warnings);
    if (rules.length === 0 && documents.length === 0)
      throw new UnprocessableError('empty_pack', 'the pack holds no rules, global helpers or data models');
    const failing = rules.filter((rule) => !testsPassed(rule));
    if (failing.length > 0 && !options.storeDisabled) {
      throw new UnprocessableError(
        'rule_tests_failed',
        `${failing.length} of ${rules.length} rules fail their tests (${failing.map((rule) => rule.definition.ruleId).join(', ')}); nothing was imported; pass storeDisabled=true to store them disabled`,
        {
          rules: failing.map((rule) => ({
            ruleId: rule.definition.ruleId,
            failedTests: rule.tests.filter((t) => !t.passed).map(testResultView),
          })),
        },
      );
    }
    const { items, libraryItems } = await this.ruleStore.write(async (transaction) => {
      const libraryReport = await this.importLibrary(transaction, documents, changedDocuments, options);
      const testedWith = libraryVersionsAfter(active.library.versions, libraryReport);
      await transaction.lockRules(rules.map((rule) => rule.definition.ruleId));
      const report: ImportReportItem[] = [];
      for (const rule of rules) {
        const checked =
          rule.definition.detection.language === 'python' ? { ...rule, libraryVersions: testedWith } : rule;
        const stored = options.dryRun
          ? await this.previewVersion(transaction, checked)
          : await this.storeVersion(transaction, checked, {
              ...options,
              format: formatOfRule.get(rule.definition) ?? 'yaml',
            });
        report.push({
          ruleId: rule.definition.ruleId,
          action: stored.action,
          version: typeof stored.version === 'number' ? stored.version : stored.version.version,
          enabled: stored.enabled,
          tests: testCounts(rule),
          ...(testsPassed(rule)
            ? {}
            : { failedTests: rule.tests.filter((t) => !t.passed).map(testResultView) }),
        });
      }
      return { items: report, libraryItems: libraryReport };
    });
    const changed = [...items, ...libraryItems].some((item) => item.action !== 'unchanged');
    if (!options.dryRun && changed) await this.activeRules.refresh();
    const count = (action: UploadAction) => items.filter((item) => item.action === action).length;
    return {
      dryRun: options.dryRun,
      created: count('created'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      rules: items,
      library: libraryItems,
      warnings: problems.warnings.map(diagnosticView),
    };
  }

  /** Stores the pack's changed helpers and data models (or, in a dry run, says what would be stored). */
  private async importLibrary(
    transaction: RuleTransaction,
    documents: readonly LibraryDocument[],
    changed: readonly LibraryDocument[],
    options: Omit<UploadOptions, 'format'> & { dryRun: boolean },
  ): Promise<ImportLibraryItem[]> {
    const report: ImportLibraryItem[] = [];
    for (const document of documents) {
      const existing = await transaction.findLibraryItem(document.kind, document.itemId);
      const live = existing !== null && existing.deletedAt === null;
      const kind = LIBRARY_TARGETS[document.kind];
      if (!changed.includes(document)) {
        report.push({
          kind,
          id: document.itemId,
          action: 'unchanged',
          version: existing?.currentVersion ?? 0,
        });
        continue;
      }
      const action: UploadAction = live ? 'updated' : 'created';
      if (options.dryRun) {
        const last = (await transaction.libraryVersions(document.kind, document.itemId)).at(-1)?.version ?? 0;
        report.push({ kind, id: document.itemId, action, version: last + 1 });
        continue;
      }
      const stored = await transaction.storeLibraryVersion({
        kind: document.kind,
        itemId: document.itemId,
        sourceText: document.sourceText,
        sourceFormat: document.sourceFormat,
        contentHash: document.contentHash,
        origin: options.origin,
        createdByKey: options.actor.keyId,
        createdAt: new Date(),
      });
      await transaction.recordAudit(options.actor, {
        action: `${kind}.${action === 'created' ? 'create' : 'update'}`,
        targetType: kind,
        targetId: document.itemId,
        details: { version: stored.version.version, origin: options.origin },
      });
      report.push({ kind, id: document.itemId, action, version: stored.version.version });
    }
    return report;
  }

  /** Every current rule as one multi-document YAML stream, ordered by RuleID; `Enabled` says its state. */
  async export(): Promise<string> {
    const all = await this.ruleStore.read((rules) => rules.currentRules());
    return joinDocuments(all.map(({ rule, version }) => exportDocument(version, rule.enabled)));
  }

  /**
   * The built-in pack, in one transaction: never overwrites a version a user made, never revives a rule a
   * user deleted, and writes nothing for a rule identical to its current version. The stored state of the
   * whole pack is read, and its new versions written, in a few statements whatever its size: a
   * transaction per rule made a start with thousands of rules take a minute. RuleIDs must be unique. The
   * active set is not rebuilt: the caller does it once, with `compiled`. Only a rule that gets a new
   * version has its tests run: a restart with an unchanged pack tests nothing.
   */
  async installBuiltinPack(pack: readonly ReadRule[]): Promise<BuiltinPackInstall> {
    const ruleIds = pack.map((rule) => rule.definition.ruleId);
    if (new Set(ruleIds).size !== ruleIds.length) throw new Error('a built-in pack defines a RuleID twice');
    return this.ruleStore.write(async (rules) => {
      await rules.lockRules(ruleIds);
      const states = await rules.packStates(ruleIds);
      const outcomes = new Map<string, BuiltinOutcome>();
      const compiled = new Map<number, CompiledRule>();
      const tests = new Map<string, RuleTestResult[]>();
      const changes: { checked: CheckedRule; state: PackRuleState | undefined }[] = [];
      for (const read of pack) {
        const ruleId = read.definition.ruleId;
        const state = states.get(ruleId);
        if (state?.rule.deletedAt) outcomes.set(ruleId, 'kept-deleted');
        else if (state && state.userVersions > 0) outcomes.set(ruleId, 'kept-user-version');
        else if (state?.current.contentHash === read.contentHash) {
          // The same source as the current version, which was tested when it was stored.
          outcomes.set(ruleId, 'unchanged');
          compiled.set(state.current.id, read.compiled);
        } else {
          outcomes.set(ruleId, state ? 'updated' : 'created');
          const checked = await testReadRule(read);
          tests.set(ruleId, checked.tests);
          changes.push({ checked, state });
        }
      }
      if (changes.length === 0) return { outcomes, compiled, tests };

      const now = new Date();
      const versions = await rules.insertVersions(
        changes.map(({ checked, state }) =>
          newVersionRow(checked, {
            version: (state?.lastVersion ?? 0) + 1,
            sourceFormat: 'yaml',
            origin: 'builtin',
            createdByKey: SYSTEM_ACTOR.keyId,
            createdAt: now,
          }),
        ),
      );
      const created: NewRule[] = [];
      const updated: CurrentVersionChange[] = [];
      const audit: AuditEntry[] = [];
      for (const [index, { checked, state }] of changes.entries()) {
        const version = versions[index] as RuleVersionEntity;
        const ruleId = checked.definition.ruleId;
        const enabled = enabledAfter(checked, state?.rule ?? null, state?.current ?? null);
        const current = { currentVersion: version.version, currentVersionId: version.id, enabled };
        if (state) updated.push({ ruleId, ...current, updatedAt: now });
        else created.push({ ruleId, ...current, createdAt: now, updatedAt: now, deletedAt: null });
        compiled.set(version.id, checked.compiled);
        audit.push({
          action: state ? 'rule.update' : 'rule.create',
          targetType: 'rule',
          targetId: ruleId,
          details: { version: version.version, origin: 'builtin', enabled },
        });
      }
      await rules.insertRules(created);
      await rules.setCurrentVersions(updated);
      await rules.recordAudits(SYSTEM_ACTOR, audit);
      return { outcomes, compiled, tests };
    });
  }

  private definitionOf(version: RuleVersionEntity): RuleDefinition {
    const definition = readStoredRule(version.format, version.sourceText);
    if (!definition) throw new Error(`stored version ${version.ruleId}@${version.version} no longer loads`);
    return definition;
  }

  /** A live rule and its current version; with `includeDeleted`, a deleted one too (its versions stay readable). */
  private async requireRule(
    rules: RuleTransaction,
    ruleId: string,
    options: { includeDeleted?: boolean } = {},
  ): Promise<StoredRule> {
    // An id no rule can have is not looked up (it may hold what the database cannot even compare).
    if (!isRuleIdShaped(ruleId)) throw new NotFoundError('rule', ruleId);
    const rule = await rules.findRule(ruleId);
    if (!rule || (rule.deletedAt && !options.includeDeleted)) throw new NotFoundError('rule', ruleId);
    return { rule, version: await rules.currentVersionOf(rule) };
  }

  /** What storeVersion would do, without writing. */
  private async previewVersion(
    rules: RuleTransaction,
    checked: CheckedRule,
  ): Promise<{ action: UploadAction; version: number; enabled: boolean }> {
    const ruleId = checked.definition.ruleId;
    const { existing, current } = await this.currentOf(rules, ruleId);
    if (existing && current?.contentHash === checked.contentHash) {
      return { action: 'unchanged', version: current.version, enabled: existing.enabled };
    }
    return {
      action: current ? 'updated' : 'created',
      version: (await rules.lastVersionNumber(ruleId)) + 1,
      enabled: enabledAfter(checked, existing, current),
    };
  }

  /** The rule row (deleted or not) and, for a live rule, its current version. */
  private async currentOf(
    rules: RuleTransaction,
    ruleId: string,
  ): Promise<{ existing: RuleEntity | null; current: RuleVersionEntity | null }> {
    const existing = await rules.findRule(ruleId);
    if (!existing || existing.deletedAt) return { existing, current: null };
    return { existing, current: await rules.currentVersionOf(existing) };
  }

  private async storeVersion(
    rules: RuleTransaction,
    checked: CheckedRule,
    options: Pick<UploadOptions, 'origin' | 'format' | 'actor'> & {
      ignoreExtraKeys: boolean;
      storeDisabled: boolean;
    },
  ): Promise<{ action: UploadAction; rule: RuleEntity; version: RuleVersionEntity; enabled: boolean }> {
    const ruleId = checked.definition.ruleId;
    await rules.lockRules([ruleId]);
    const { existing, current } = await this.currentOf(rules, ruleId);
    if (existing && current?.contentHash === checked.contentHash) {
      return { action: 'unchanged', rule: existing, version: current, enabled: existing.enabled };
    }
    const now = new Date();
    const version = await rules.insertVersion(
      newVersionRow(checked, {
        version: (await rules.lastVersionNumber(ruleId)) + 1,
        sourceFormat: options.format,
        origin: options.origin,
        createdByKey: options.actor.keyId,
        createdAt: now,
      }),
    );
    const enabled = enabledAfter(checked, existing, current);
    const action: UploadAction = current ? 'updated' : 'created';
    const restored = existing?.deletedAt != null;
    let rule: RuleEntity;
    if (existing) {
      rule = existing;
      rule.currentVersion = version.version;
      rule.currentVersionId = version.id;
      rule.enabled = enabled;
      rule.updatedAt = now;
      if (rule.deletedAt) {
        // Uploading a deleted rule again brings it back, with a new version.
        rule.deletedAt = null;
        rule.createdAt = now;
      }
      await rules.saveRule(rule);
    } else {
      rule = await rules.insertRule({
        ruleId,
        currentVersion: version.version,
        currentVersionId: version.id,
        enabled,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
      });
    }
    await rules.recordAudit(options.actor, {
      action: action === 'created' ? 'rule.create' : 'rule.update',
      targetType: 'rule',
      targetId: ruleId,
      details: {
        version: version.version,
        origin: options.origin,
        enabled,
        ...(restored ? { restored } : {}),
      },
    });
    return { action, rule, version, enabled };
  }
}

/**
 * Whether a new version runs: never with failing tests; a new rule as its `Enabled` says; an existing
 * one keeps its state (a user may have disabled it) unless the new source changes `Enabled` itself.
 */
function enabledAfter(
  checked: CheckedRule,
  existing: Pick<RuleEntity, 'enabled'> | null,
  current: Pick<RuleVersionEntity, 'metadata'> | null,
): boolean {
  if (!testsPassed(checked)) return false;
  if (!existing || !current) return checked.definition.enabled;
  return checked.definition.enabled !== current.metadata.enabledInSource
    ? checked.definition.enabled
    : existing.enabled;
}

/** One YAML stream of documents that may or may not carry their own `---` marker and directives. */
function joinDocuments(documents: readonly string[]): string {
  return documents
    .map((text, index) => {
      if (index === 0 || /^---(\s|$)/.test(text)) return text;
      // Directives may only follow a document that was ended explicitly.
      return text.startsWith('%') ? `...\n${text}` : `---\n${text}`;
    })
    .join('');
}

/** A stored source, with its `Enabled` key set to the rule's state when a PATCH changed it. */
function exportDocument(version: RuleVersionEntity, enabled: boolean): string {
  let text = version.sourceText;
  if (version.metadata.enabledInSource !== enabled) {
    const document = parseDocument(text);
    document.set('Enabled', enabled);
    text = document.toString();
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The stored row of a checked rule's new version: its source and metadata, and how its tests went. */
function newVersionRow(
  checked: CheckedRule,
  made: Pick<NewRuleVersion, 'version' | 'sourceFormat' | 'origin' | 'createdByKey' | 'createdAt'>,
): NewRuleVersion {
  const passed = checked.tests.filter((test) => test.passed).length;
  return {
    ...made,
    ruleId: checked.definition.ruleId,
    sourceText: checked.sourceText,
    format: formatOf(checked.definition),
    contentHash: checked.contentHash,
    metadata: metadataOf(checked.definition),
    libraryVersions: checked.libraryVersions ?? null,
    testsPassed: passed,
    testsFailed: checked.tests.length - passed,
  };
}
