// What every store over the database shares: a unit of work gets a repository on its own transaction
// (or, for reads, its connection). A repository file says which store it makes, typed by the feature's
// store interface, and the feature module provides it with one line:
//
//     export const openRuleStore = (database: Database): RuleStore => new DatabaseStore(database, RulesRepository);
//     storeProvider(RULE_STORE, openRuleStore)
import type { Provider } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from './database.service.js';

export class DatabaseStore<Repository> {
  constructor(
    private readonly database: Database,
    private readonly Repository: new (manager: EntityManager) => Repository,
  ) {}

  read<T>(work: (repository: Repository) => Promise<T>): Promise<T> {
    return this.database.read((manager) => work(new this.Repository(manager)));
  }

  write<T>(work: (repository: Repository) => Promise<T>): Promise<T> {
    return this.database.write((manager) => work(new this.Repository(manager)));
  }
}

/** The store under `token`, made on the database by `open`. */
export function storeProvider(token: symbol, open: (database: Database) => unknown): Provider {
  return { provide: token, inject: [Database], useFactory: open };
}
