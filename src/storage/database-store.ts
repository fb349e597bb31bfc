// What every store over the database shares: a unit of work gets a repository on its own transaction
// (or, for reads, its connection). A store names only the repository it opens.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from './database.service.js';

@Injectable()
export abstract class DatabaseStore<Repository> {
  constructor(private readonly database: Database) {}

  protected abstract open(manager: EntityManager): Repository;

  read<T>(work: (repository: Repository) => Promise<T>): Promise<T> {
    return this.database.read((manager) => work(this.open(manager)));
  }

  write<T>(work: (repository: Repository) => Promise<T>): Promise<T> {
    return this.database.write((manager) => work(this.open(manager)));
  }
}
