// SQLite migrations in the order they run. Add new ones at the end.
import { InitialSchema1764460800000 } from './1764460800000-InitialSchema.js';
import { Ingest1764470000000 } from './1764470000000-Ingest.js';
import { Queries1764480000000 } from './1764480000000-Queries.js';
import { Security1764490000000 } from './1764490000000-Security.js';
import { WriteProbe1765100000000 } from './1765100000000-WriteProbe.js';
import { RuleFormat1765200000000 } from './1765200000000-RuleFormat.js';
import { PythonLibrary1765300000000 } from './1765300000000-PythonLibrary.js';

export const SQLITE_MIGRATIONS = [
  InitialSchema1764460800000,
  Ingest1764470000000,
  Queries1764480000000,
  Security1764490000000,
  WriteProbe1765100000000,
  RuleFormat1765200000000,
  PythonLibrary1765300000000,
];
