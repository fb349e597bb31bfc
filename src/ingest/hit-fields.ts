// The name/value rows a hit is found by: every output field, and the event's p_any_* indicators. A list
// gives one row per element, an object its JSON text; null and empty values give none.

export const MAX_FIELD_NAME = 200;
export const MAX_FIELD_VALUE = 1000;

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
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
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
  for (const [name, value] of Object.entries(event)) if (name.startsWith('p_any_')) add(name, value);
  return rows;
}
