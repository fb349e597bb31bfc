// The name/value rows a hit is found by: every output field, and the event's p_any_* indicators. A list
// gives one row per element, an object its JSON text; null and empty values give none.

import { indexedIndicatorFields } from '../engine/logtypes/index.js';
import { hasOwn } from '../engine/values.js';

export const MAX_FIELD_NAME = 200;
export const MAX_FIELD_VALUE = 1000;
/** Rows one name may give, and one hit in all: a hit is found by a few values, not thousands. */
export const MAX_VALUES_PER_FIELD = 100;
export const MAX_ROWS_PER_HIT = 1000;

export interface FieldRow {
  name: string;
  value: string;
}

function text(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function indexedFields(
  outputFields: Readonly<Record<string, unknown>>,
  event: Readonly<Record<string, unknown>>,
): FieldRow[] {
  const rows: FieldRow[] = [];
  const seen = new Set<string>();
  const add = (name: string, value: unknown) => {
    const values = (Array.isArray(value) ? value : [value]).slice(0, MAX_VALUES_PER_FIELD);
    for (const item of values) {
      if (rows.length >= MAX_ROWS_PER_HIT) return;
      const found = text(item);
      if (found === undefined) continue;
      const row = { name: name.slice(0, MAX_FIELD_NAME), value: found.slice(0, MAX_FIELD_VALUE) };
      const key = `${row.name}\u0000${row.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(row);
    }
  };
  for (const [name, value] of Object.entries(outputFields)) add(name, value);
  // Only the indicators the normalisers write: other p_any_* keys an event arrives with are not indexed.
  for (const name of indexedIndicatorFields()) if (hasOwn(event, name)) add(name, event[name]);
  return rows;
}
