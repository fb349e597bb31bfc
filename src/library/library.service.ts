// Global helpers and data models: upload, versions, delete. Each change is checked first (library-change.ts)
// and then stored in one transaction; the active set is rebuilt so the workers load it.
import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '../audit/audit.service.js';
import { NotFoundError, UnprocessableError } from '../common/errors.js';
import { ActiveRuleSet } from '../rules/active-rule-set.service.js';
import { PythonChecks } from '../rules/python-checks.js';
import { InvalidRuleError } from '../rules/rule-errors.js';
import type { SourceFormat } from '../rules/rule-source.js';
import {
  RULE_STORE,
  type RuleStore,
  type RuleTransaction,
  type StoredLibraryItem,
} from '../rules/rule-store.js';
import { diagnosticView, type DiagnosticView } from '../rules/rule-views.js';
import type { LibraryKind, RuleOrigin } from '../storage/entities.js';
import { checkLibraryChange } from './library-change.js';
import { LIBRARY_KIND_NAMES, readLibrarySource, type LibraryDocument } from './library-source.js';
import {
  itemView,
  libraryVersionView,
  type LibraryItemDetailView,
  type LibraryItemView,
  type LibraryVersionView,
} from './library-views.js';

export interface LibraryUploadOptions {
  format: SourceFormat;
  ignoreExtraKeys: boolean;
  origin: RuleOrigin;
  actor: Actor;
}

export interface LibraryUploadResult {
  action: 'created' | 'updated' | 'unchanged';
  item: LibraryItemView;
  /** The running Python rules whose tests were run against the new version (all passed). */
  rulesTested: number;
  warnings: DiagnosticView[];
}

/** The kind's name in audit entries and 404s. */
const TARGET: Record<LibraryKind, 'global_helper' | 'data_model'> = {
  global: 'global_helper',
  datamodel: 'data_model',
};

const ID_SHAPE = /^[A-Za-z0-9_.:-]{1,200}$/;

@Injectable()
export class LibraryService {
  constructor(
    @Inject(RULE_STORE) private readonly store: RuleStore,
    private readonly activeRules: ActiveRuleSet,
    private readonly checks: PythonChecks,
  ) {}

  /** Creates a helper or data model, or stores a new version when the source differs from the current one. */
  async upsert(
    kind: LibraryKind,
    text: string,
    options: LibraryUploadOptions,
    expectedId?: string,
  ): Promise<LibraryUploadResult> {
    const document = this.readOne(kind, text, options);
    if (expectedId !== undefined && document.itemId !== expectedId) {
      throw new UnprocessableError('id_mismatch', `the body defines ${document.itemId}, not ${expectedId}`);
    }
    const current = await this.store.read((store) => this.currentOf(store, kind, document.itemId));
    if (current?.version.contentHash === document.contentHash)
      return { action: 'unchanged', item: this.view(current), rulesTested: 0, warnings: document.warnings };
    const active = this.activeRules.snapshot();
    await checkLibraryChange(this.checks, active, { documents: [document] });
    const stored = await this.store.write(async (store) => {
      const saved = await store.storeLibraryVersion({
        kind,
        itemId: document.itemId,
        sourceText: document.sourceText,
        sourceFormat: options.format,
        contentHash: document.contentHash,
        origin: options.origin,
        createdByKey: options.actor.keyId,
        createdAt: new Date(),
      });
      await store.recordAudit(options.actor, {
        action: `${TARGET[kind]}.${current ? 'update' : 'create'}`,
        targetType: TARGET[kind],
        targetId: document.itemId,
        details: { version: saved.version.version, origin: options.origin },
      });
      return saved;
    });
    await this.activeRules.refresh();
    const pythonRules = [...active.versions.values()].filter(
      ({ compiled }) => compiled.definition.detection.language === 'python',
    ).length;
    return {
      action: current ? 'updated' : 'created',
      item: this.view(stored),
      rulesTested: pythonRules,
      warnings: document.warnings,
    };
  }

  async list(kind: LibraryKind): Promise<LibraryItemView[]> {
    const all = await this.store.read((store) => store.currentLibrary());
    return all.filter((stored) => stored.item.kind === kind).map((stored) => this.view(stored));
  }

  async get(kind: LibraryKind, itemId: string): Promise<LibraryItemDetailView> {
    const stored = await this.store.read((store) => this.require(store, kind, itemId));
    return this.view(stored, true) as LibraryItemDetailView;
  }

  async versions(kind: LibraryKind, itemId: string): Promise<LibraryVersionView[]> {
    return this.store.read(async (store) => {
      const item = await this.requireRow(store, kind, itemId, true);
      const versions = await store.libraryVersions(kind, itemId);
      return versions.map((version) => libraryVersionView(version, item.currentVersion, false));
    });
  }

  async version(kind: LibraryKind, itemId: string, number: number): Promise<LibraryVersionView> {
    return this.store.read(async (store) => {
      const item = await this.requireRow(store, kind, itemId, true);
      const version = (await store.libraryVersions(kind, itemId)).find(
        (candidate) => candidate.version === number,
      );
      if (!version) throw new NotFoundError(`${TARGET[kind]}_version`, `${itemId}@${number}`);
      return libraryVersionView(version, item.currentVersion, true);
    });
  }

  /** Deletes a helper or data model no running rule needs; its versions stay. */
  async delete(kind: LibraryKind, itemId: string, actor: Actor): Promise<void> {
    const current = await this.store.read((store) => this.require(store, kind, itemId));
    await checkLibraryChange(this.checks, this.activeRules.snapshot(), {
      documents: [],
      removed: [{ kind, itemId }],
    });
    await this.store.write(async (store) => {
      await store.deleteLibraryItem(kind, itemId, new Date());
      await store.recordAudit(actor, {
        action: `${TARGET[kind]}.delete`,
        targetType: TARGET[kind],
        targetId: itemId,
        details: { version: current.version.version },
      });
    });
    await this.activeRules.refresh();
  }

  /** Exactly one document of the kind, or a 422 that says what is wrong and where. */
  private readOne(
    kind: LibraryKind,
    text: string,
    options: LibraryUploadOptions,
  ): LibraryDocument & { warnings: DiagnosticView[] } {
    const read = readLibrarySource(text, {
      format: options.format,
      ignoreExtraKeys: options.ignoreExtraKeys,
    });
    const errors = read.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
    const warnings = read.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning');
    if (errors.length > 0) throw new InvalidRuleError(errors, warnings, LIBRARY_KIND_NAMES[kind]);
    const documents = read.documents.filter((document) => document.kind === kind);
    const analysisType = kind === 'global' ? 'global' : 'datamodel';
    if (documents.length !== 1 || read.rules.length > 0 || read.documents.length !== 1) {
      throw new UnprocessableError(
        'wrong_document',
        `this operation takes one ${LIBRARY_KIND_NAMES[kind]} (AnalysisType: ${analysisType}); the body holds ${read.rules.length} rules and ${read.documents.length} helpers or data models (send several to POST /v1/rules/import)`,
      );
    }
    return { ...(documents[0] as LibraryDocument), warnings: warnings.map(diagnosticView) };
  }

  private view(stored: StoredLibraryItem, withSource = false): LibraryItemView {
    const document = readLibrarySource(stored.version.sourceText, { ignoreExtraKeys: true }).documents[0];
    return itemView(stored.item, document, withSource ? stored.version : undefined);
  }

  private async currentOf(
    store: RuleTransaction,
    kind: LibraryKind,
    itemId: string,
  ): Promise<StoredLibraryItem | undefined> {
    const item = await store.findLibraryItem(kind, itemId);
    if (!item || item.deletedAt) return undefined;
    return { item, version: await store.currentLibraryVersionOf(item) };
  }

  private async require(
    store: RuleTransaction,
    kind: LibraryKind,
    itemId: string,
  ): Promise<StoredLibraryItem> {
    const found = ID_SHAPE.test(itemId) ? await this.currentOf(store, kind, itemId) : undefined;
    if (!found) throw new NotFoundError(TARGET[kind], itemId);
    return found;
  }

  private async requireRow(
    store: RuleTransaction,
    kind: LibraryKind,
    itemId: string,
    includeDeleted: boolean,
  ) {
    const item = ID_SHAPE.test(itemId) ? await store.findLibraryItem(kind, itemId) : null;
    if (!item || (item.deletedAt && !includeDeleted)) throw new NotFoundError(TARGET[kind], itemId);
    return item;
  }
}
