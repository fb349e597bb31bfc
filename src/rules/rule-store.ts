// What the rules service and the active rule set need from storage, in their own terms. A RuleStore runs
// units of work; each gets a RuleTransaction whose reads and writes are all committed together, or none.
// storage/rules.repository.ts keeps rules in the database; the unit specs keep them in memory.
import type { Actor, AuditEntry } from '../audit/audit.service.js';
import type {
  LibraryItemEntity,
  LibraryKind,
  LibraryVersionEntity,
  RuleEntity,
  RuleVersionEntity,
} from '../storage/entities.js';

/** Injection token of the RuleStore (an interface leaves nothing at run time to inject by). */
export const RULE_STORE = Symbol('RULE_STORE');

export interface RuleStore {
  /** Runs reads; on SQLite they wait for the write in progress, so they never see half of it. */
  read<T>(work: (rules: RuleTransaction) => Promise<T>): Promise<T>;
  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  write<T>(work: (rules: RuleTransaction) => Promise<T>): Promise<T>;
}

/** A rule row and the version it points to as current. */
export interface StoredRule {
  rule: RuleEntity;
  version: RuleVersionEntity;
}

/** A version to store; the store gives it its id. */
export type NewRuleVersion = Omit<RuleVersionEntity, 'id'>;

/** A rule row to create; its error counts start empty. */
export type NewRule = Pick<
  RuleEntity,
  'ruleId' | 'currentVersion' | 'currentVersionId' | 'enabled' | 'createdAt' | 'updatedAt' | 'deletedAt'
>;

/** What the active rule set compiles: the current source of an enabled, live rule. */
export interface ActiveRuleSource {
  /** rule_versions.id: versions never change, so a compiled one can be reused. */
  versionId: number;
  ruleId: string;
  version: number;
  source: string;
  /** The rule format the source is read with (engine/formats/registry.ts). */
  format: string;
}

/** A rule pointed at a new current version, with its state after it. */
export type CurrentVersionChange = Pick<
  RuleEntity,
  'ruleId' | 'currentVersion' | 'currentVersionId' | 'enabled' | 'updatedAt'
>;

/** What installing the built-in pack needs to know of a stored rule; read for the whole pack at once. */
export interface PackRuleState {
  /** The rule row, deleted or not. */
  rule: RuleEntity;
  /** Its current version: what an identical pack rule is compared with. */
  current: Pick<
    RuleVersionEntity,
    'id' | 'version' | 'contentHash' | 'metadata' | 'testsPassed' | 'testsFailed'
  >;
  /** The highest version number it ever had. */
  lastVersion: number;
  /** Versions a user made (through the API or an import): the pack never replaces them. */
  userVersions: number;
}

/** A global helper or data model and the version of it that is current. */
export interface StoredLibraryItem {
  item: LibraryItemEntity;
  version: LibraryVersionEntity;
}

/** A helper or data model version to store; the store numbers it and gives it its id. */
export type NewLibraryVersion = Omit<LibraryVersionEntity, 'id' | 'version'>;

export interface RuleTransaction {
  /** Makes changes to these rules one at a time, also across instances, until the transaction ends. */
  lockRules(ruleIds: readonly string[]): Promise<void>;
  /** The rule row, deleted or not. */
  findRule(ruleId: string): Promise<RuleEntity | null>;
  currentVersionOf(rule: RuleEntity): Promise<RuleVersionEntity>;
  version(ruleId: string, version: number): Promise<RuleVersionEntity | null>;
  /** Every version of a rule, oldest first. */
  versions(ruleId: string): Promise<RuleVersionEntity[]>;
  /** The highest version number a rule ever had (deleted or not); 0 for none. */
  lastVersionNumber(ruleId: string): Promise<number>;
  /** Every live rule with its current version, ordered by RuleID. */
  currentRules(): Promise<StoredRule[]>;
  insertVersion(version: NewRuleVersion): Promise<RuleVersionEntity>;
  insertRule(rule: NewRule): Promise<RuleEntity>;
  /** Writes the changes made to a rule row read in this transaction. */
  saveRule(rule: RuleEntity): Promise<void>;
  /** The stored state of each of these rules that exists, by RuleID, in a few reads whatever their number. */
  packStates(ruleIds: readonly string[]): Promise<Map<string, PackRuleState>>;
  /** Stores versions in a few statements; returns them with their ids, in the order given. */
  insertVersions(versions: readonly NewRuleVersion[]): Promise<RuleVersionEntity[]>;
  /** Creates rule rows in a few statements. */
  insertRules(rules: readonly NewRule[]): Promise<void>;
  /** Points existing rules at a new current version, with their state after it. */
  setCurrentVersions(changes: readonly CurrentVersionChange[]): Promise<void>;
  /** The current sources of enabled, live rules, ordered by RuleID. */
  enabledCurrentSources(): Promise<ActiveRuleSource[]>;
  /**
   * A digest of what the active set is built from: each rule's current version, whether it runs and
   * whether it is deleted, and each helper's and data model's current version. Any change on any instance changes it, whatever the clocks say. Empty where
   * no other instance can change the rules (one SQLite file has one writer: this process).
   */
  rulesStamp(): Promise<string>;
  /** A helper or data model row, deleted or not. */
  findLibraryItem(kind: LibraryKind, itemId: string): Promise<LibraryItemEntity | null>;
  /** The version a helper or data model row points to as current. */
  currentLibraryVersionOf(item: LibraryItemEntity): Promise<LibraryVersionEntity>;
  /** Every version of a helper or data model, oldest first. */
  libraryVersions(kind: LibraryKind, itemId: string): Promise<LibraryVersionEntity[]>;
  /** Every live helper and data model with its current version, by kind, then id. */
  currentLibrary(): Promise<StoredLibraryItem[]>;
  /**
   * Stores the next version of a helper or data model and makes it current, creating its row or bringing
   * a deleted one back; changes to one item are made one at a time, also across instances.
   */
  storeLibraryVersion(version: NewLibraryVersion): Promise<StoredLibraryItem>;
  /** Marks a live helper or data model deleted; its versions stay. */
  deleteLibraryItem(kind: LibraryKind, itemId: string, at: Date): Promise<void>;
  /** Records a change in the audit trail, in this transaction. */
  recordAudit(actor: Actor, entry: AuditEntry): Promise<void>;
  /** Records many changes by one actor in the audit trail, in a few statements. */
  recordAudits(actor: Actor, entries: readonly AuditEntry[]): Promise<void>;
}
