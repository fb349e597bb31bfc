// Global helpers and data models as stored sources: one document each, read with Panther's reader, kept
// self-contained (a document whose Python came from a file beside it stores it under Body), and turned
// into the library the Python runtime loads. Nothing here touches the database or HTTP.
import { parseDocument } from 'yaml';
import type { Diagnostic } from '../engine/diagnostics.js';
import { readRuleSource } from '../engine/formats/registry.js';
import type { ReadOptions } from '../engine/formats/rule-format.js';
import type {
  DataModelDefinition,
  GlobalHelperDefinition,
  PythonLibrary,
} from '../engine/python/python-library.js';
import type { RuleDefinition } from '../engine/rule.js';
import type { StoredLibraryItem } from '../rules/rule-store.js';
import { contentHash } from '../rules/rule-source.js';
import type { LibraryKind, LibraryVersions } from '../storage/entities.js';

/** A helper or data model read from a source, ready to store. */
export interface LibraryDocument {
  kind: LibraryKind;
  /** GlobalID or DataModelID. */
  itemId: string;
  /** The document alone, with its Python under Body. */
  sourceText: string;
  /** How the stored text is written: as sent, or YAML once a Body was added to it. */
  sourceFormat: 'yaml' | 'json';
  contentHash: string;
  helper?: GlobalHelperDefinition;
  dataModel?: DataModelDefinition;
}

/** How the API names each kind, in paths and messages. */
export const LIBRARY_KIND_NAMES: Record<LibraryKind, string> = {
  global: 'global helper',
  datamodel: 'data model',
};

/** Every rule, helper and data model of a source; the helpers and data models as storable documents. */
export function readLibrarySource(
  text: string,
  options: ReadOptions,
): { documents: LibraryDocument[]; rules: RuleDefinition[]; diagnostics: Diagnostic[] } {
  const read = readRuleSource(text, options);
  const format = options.format ?? 'yaml';
  const documents: LibraryDocument[] = [
    ...(read.helpers ?? []).map((helper) =>
      storable(format, 'global', helper.globalId, helper.source.text, helper.body, (sourceText) => ({
        helper: { ...helper, source: { ...helper.source, text: sourceText } },
      })),
    ),
    ...(read.dataModels ?? []).map((model) =>
      storable(format, 'datamodel', model.dataModelId, model.source.text, model.body, (sourceText) => ({
        dataModel: { ...model, source: { ...model.source, text: sourceText } },
      })),
    ),
  ];
  return { documents, rules: read.rules, diagnostics: read.diagnostics };
}

function storable(
  format: 'yaml' | 'json',
  kind: LibraryKind,
  itemId: string,
  documentText: string,
  body: string | undefined,
  definition: (sourceText: string) => Pick<LibraryDocument, 'helper' | 'dataModel'>,
): LibraryDocument {
  const sourceText = withBody(documentText, body);
  return {
    kind,
    itemId,
    sourceText,
    sourceFormat: sourceText === documentText ? format : 'yaml',
    contentHash: contentHash(sourceText),
    ...definition(sourceText),
  };
}

/**
 * A document whose Python was read from a file beside it, with that source under Body, so that the
 * stored text loads alone. A document that already carries Body (or has no Python) is kept as written.
 */
export function withBody(documentText: string, body: string | undefined): string {
  if (body === undefined) return documentText;
  const document = parseDocument(documentText);
  if (document.has('Body')) return documentText;
  document.set('Body', body);
  return document.toString();
}

/** The helpers and data models the runtime loads, from their stored current versions. */
export function pythonLibraryOf(stored: readonly StoredLibraryItem[]): {
  library: PythonLibrary;
  versions: LibraryVersions;
  /** Stored versions that no longer read (the reader became stricter). */
  unreadable: string[];
} {
  const helpers: GlobalHelperDefinition[] = [];
  const dataModels: DataModelDefinition[] = [];
  const versions: LibraryVersions = { globals: {}, dataModels: {} };
  const unreadable: string[] = [];
  for (const { item, version } of stored) {
    const read = readRuleSource(version.sourceText, { ignoreExtraKeys: true });
    const helper = read.helpers?.find((candidate) => candidate.globalId === item.itemId);
    const model = read.dataModels?.find((candidate) => candidate.dataModelId === item.itemId);
    if (item.kind === 'global' && helper) {
      helpers.push(helper);
      versions.globals[item.itemId] = version.version;
    } else if (item.kind === 'datamodel' && model) {
      dataModels.push(model);
      versions.dataModels[item.itemId] = version.version;
    } else unreadable.push(`${LIBRARY_KIND_NAMES[item.kind]} ${item.itemId}@${version.version}`);
  }
  return { library: { helpers, dataModels }, versions, unreadable };
}

/** A library with some helpers and data models added or replaced, and some removed. */
export function changedLibrary(
  library: PythonLibrary,
  documents: readonly LibraryDocument[],
  removed: readonly { kind: LibraryKind; itemId: string }[] = [],
): PythonLibrary {
  const gone = (kind: LibraryKind, itemId: string) =>
    removed.some((item) => item.kind === kind && item.itemId === itemId) ||
    documents.some((document) => document.kind === kind && document.itemId === itemId);
  return {
    helpers: [
      ...library.helpers.filter((helper) => !gone('global', helper.globalId)),
      ...documents.flatMap((document) => (document.helper ? [document.helper] : [])),
    ],
    dataModels: [
      ...library.dataModels.filter((model) => !gone('datamodel', model.dataModelId)),
      ...documents.flatMap((document) => (document.dataModel ? [document.dataModel] : [])),
    ],
  };
}
