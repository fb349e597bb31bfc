// The shapes the global helpers and data models API answers with, built from stored rows.
import type { LibraryItemEntity, LibraryVersionEntity } from '../storage/entities.js';
import type { LibraryDocument } from './library-source.js';

export interface LibraryItemView {
  /** GlobalID or DataModelID. */
  id: string;
  version: number;
  /** The Python file the source names. */
  filename: string | null;
  description: string | null;
  /** A data model's log types; empty for a helper. */
  logTypes: string[];
  createdAt: string;
  updatedAt: string;
}

export interface LibraryItemDetailView extends LibraryItemView {
  /** The document as stored, its Python under Body. */
  source: string;
}

export interface LibraryVersionView {
  id: string;
  version: number;
  current: boolean;
  origin: string;
  createdByKey: string | null;
  createdAt: string;
  contentHash: string;
  source?: string;
}

export function itemView(
  item: LibraryItemEntity,
  document: LibraryDocument | undefined,
  withSource?: LibraryVersionEntity,
): LibraryItemView | LibraryItemDetailView {
  const model = document?.dataModel;
  const helper = document?.helper;
  return {
    id: item.itemId,
    version: item.currentVersion,
    filename: helper?.filename ?? model?.filename ?? null,
    description: helper?.description ?? model?.displayName ?? null,
    logTypes: model?.logTypes ?? [],
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
    ...(withSource ? { source: withSource.sourceText } : {}),
  };
}

export function libraryVersionView(
  version: LibraryVersionEntity,
  currentVersion: number | undefined,
  withSource: boolean,
): LibraryVersionView {
  return {
    id: version.itemId,
    version: version.version,
    current: version.version === currentVersion,
    origin: version.origin,
    createdByKey: version.createdByKey,
    createdAt: version.createdAt.toISOString(),
    contentHash: version.contentHash,
    ...(withSource ? { source: version.sourceText } : {}),
  };
}
