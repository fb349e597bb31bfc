// PostgreSQL migrations in the order they run. Add new ones at the end.
import { InitialSchema1764500000000 } from './1764500000000-InitialSchema.js';
import { WriteProbe1765100000000 } from './1765100000000-WriteProbe.js';

export const POSTGRES_MIGRATIONS = [InitialSchema1764500000000, WriteProbe1765100000000];
