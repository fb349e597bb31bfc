// Data source for TypeORM's migration CLI (`npm run migration:*`), built from the same configuration and
// entity list as the app.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source.js';

// Without the statement timeouts that bound requests: a migration may take as long as it needs.
export default new DataSource(dataSourceOptions(loadConfig(), 'migrations'));
