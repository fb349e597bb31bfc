// Elasticsearch's _bulk body, framework-free: NDJSON lines of an action ({"index": {...}}, "create",
// "update", "delete"), each but delete followed by its source line. index and create carry events;
// update and delete are answered per item as not supported (events are kept as sent, never changed).
import type { DecodedItem } from '../ingest/event-decoder.js';
import { isPlainObject } from '../engine/values.js';

export const BULK_ACTIONS = ['index', 'create', 'update', 'delete'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export interface BulkOperation {
  action: BulkAction;
  /** The action's _index, else the one in the path (undefined: neither). */
  index: string | undefined;
  id: string | undefined;
  /** index and create: the source line, decoded (or why it could not be). */
  source?: DecodedItem;
}

/** A body that is not a bulk request at all: Elasticsearch refuses the whole request. */
export class MalformedBulkError extends Error {}

/**
 * Pairs decoded NDJSON lines into operations. `lines` are every non-blank line in order, as
 * EventDecoder gives them; a bad action line spoils the whole request, a bad source line only its item.
 */
export function bulkOperations(
  lines: readonly DecodedItem[],
  pathIndex: string | undefined,
): BulkOperation[] {
  const operations: BulkOperation[] = [];
  for (let at = 0; at < lines.length; at += 1) {
    const line = lines[at];
    const lineNumber = at + 1;
    if (line === undefined) break;
    if ('error' in line) throw new MalformedBulkError(`action line ${lineNumber}: ${line.error}`);
    const keys = isPlainObject(line.event) ? Object.keys(line.event) : [];
    const action = BULK_ACTIONS.find((name) => keys.length === 1 && keys[0] === name);
    if (action === undefined || !isPlainObject(line.event))
      throw new MalformedBulkError(
        `action line ${lineNumber}: expected one of ${BULK_ACTIONS.join(', ')}, as {"index": {"_index": "…"}}`,
      );
    const metadata = line.event[action];
    if (!isPlainObject(metadata))
      throw new MalformedBulkError(`action line ${lineNumber}: the ${action} metadata must be an object`);
    const operation: BulkOperation = {
      action,
      index: typeof metadata._index === 'string' ? metadata._index : pathIndex,
      id: typeof metadata._id === 'string' && metadata._id !== '' ? metadata._id : undefined,
    };
    if (action !== 'delete') {
      const source = lines[at + 1];
      if (source === undefined)
        throw new MalformedBulkError(`action line ${lineNumber}: the ${action} has no source line after it`);
      operation.source = source;
      at += 1;
    }
    operations.push(operation);
  }
  return operations;
}

/**
 * The log type an index names (BULK_INDICES): the first pattern that is the index itself, or a prefix of
 * it ending in *. Undefined leaves it to the event itself.
 */
export function logTypeOfIndex(
  patterns: ReadonlyArray<{ pattern: string; logType: string }>,
  index: string | undefined,
): string | undefined {
  if (index === undefined) return undefined;
  return patterns.find(({ pattern }) =>
    pattern.endsWith('*') ? index.startsWith(pattern.slice(0, -1)) : index === pattern,
  )?.logType;
}
