// PostgreSQL migrations in the order they run. Add new ones at the end.
import { InitialSchema1764500000000 } from './1764500000000-InitialSchema.js';
import { WriteProbe1765100000000 } from './1765100000000-WriteProbe.js';
import { RuleFormat1765200000000 } from './1765200000000-RuleFormat.js';
import { PythonLibrary1765300000000 } from './1765300000000-PythonLibrary.js';

export const POSTGRES_MIGRATIONS = [
  InitialSchema1764500000000,
  WriteProbe1765100000000,
  RuleFormat1765200000000,
  PythonLibrary1765300000000,
];
