// Group commit on SQLite's one connection: the writes that opt in and arrive while earlier writes hold
// the queue run together in one transaction, and its one COMMIT, synced to disk before any member is
// answered (sqlite-transactions.ts), acknowledges each of them. A synced commit costs about as much for
// ten batches as for one, so small batches from many clients no longer pay one each.
//
// No savepoints (SQLite writes a sub-journal for each, which made an earlier try slower): when any part
// of a group fails, the whole transaction is rolled back and each member runs again alone, in its own
// transaction, so that one bad member cannot fail the others and nothing is half-committed. That is why
// only units of work that are safe to run again may be grouped.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import { CommitUnconfirmedError } from './database-faults.js';

/** A grouped unit of work; it may run twice (once in its group, then alone if the group failed). */
export type RepeatableUnitOfWork<T> = (manager: EntityManager) => Promise<T>;

/** What the group commit needs from the database it runs on. */
export interface GroupCommitDriver {
  /** Runs `work` in one transaction: resolves once COMMIT has succeeded, else throws with nothing kept. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T>;
  /** Runs `job` when the database's queue of units of work reaches it; `job` does not throw. */
  serialize(job: () => Promise<void>): void;
  /** Told after each commit, grouped or alone. */
  committed(): void;
  /** The error a member's caller is given when its own transaction failed. */
  failed(error: unknown): unknown;
}

/** Bounds the work one failure can make run again, and the wait of a group's first member. */
export const MAX_GROUP_MEMBERS = 64;

/** How many turns of the event loop a group waits for members at most (each turn must bring one). */
export const MAX_GATHER_TURNS = 8;

interface Member {
  work: RepeatableUnitOfWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitCounts {
  /** Transactions committed for grouped writes, grouped or alone. */
  commits: number;
  /** Grouped writes committed. */
  members: number;
  /** Groups that failed and whose members ran again alone. */
  retriedGroups: number;
}

export class GroupCommit {
  /** The group still taking members: queued, not yet begun. */
  private gathering: Member[] | undefined;
  private readonly tally: GroupCommitCounts = { commits: 0, members: 0, retriedGroups: 0 };

  constructor(private readonly driver: GroupCommitDriver) {}

  get counts(): Readonly<GroupCommitCounts> {
    return { ...this.tally };
  }

  /** Resolves with `work`'s result once a COMMIT that holds it has succeeded; rejects with none of it kept. */
  add<T>(work: RepeatableUnitOfWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const member: Member = { work, resolve: resolve as (value: unknown) => void, reject };
      if (this.gathering !== undefined && this.gathering.length < MAX_GROUP_MEMBERS) {
        this.gathering.push(member);
        return;
      }
      const group = [member];
      this.gathering = group;
      this.driver.serialize(() => this.commit(group));
    });
  }

  private async commit(group: Member[]): Promise<void> {
    // better-sqlite3 blocks the event loop for a whole transaction, so the requests that came in meanwhile
    // are still being read and evaluated: turns of the loop let them join, as long as each turn brings more.
    for (let turn = 0; turn < MAX_GATHER_TURNS; turn++) {
      const size = group.length;
      await nextTurn();
      if (group.length === size || group.length >= MAX_GROUP_MEMBERS) break;
    }
    if (this.gathering === group) this.gathering = undefined;
    if (group.length === 1) {
      await this.alone(group[0] as Member);
      return;
    }
    let results: unknown[];
    const attempt = { begun: false };
    try {
      results = await this.driver.transaction(async (manager) => {
        attempt.begun = true;
        const each: unknown[] = [];
        for (const member of group) {
          // A member's statements run without a break (better-sqlite3 is synchronous): a turn of the event
          // loop between members lets other requests through (a read of hits) rather than after the group.
          if (each.length > 0) await nextTurn();
          each.push(await member.work(manager));
        }
        return each;
      });
    } catch (error) {
      if (error instanceof CommitUnconfirmedError) {
        // Committed, but the disk did not confirm it: running the members again would store them twice.
        for (const member of group) member.reject(error);
        return;
      }
      if (!attempt.begun) {
        // No member ran (the write lock was not granted): trying each alone would only repeat the wait.
        const failure = this.driver.failed(error);
        for (const member of group) member.reject(failure);
        return;
      }
      // Which member failed, and whether the others' work stands without it, is not known here: the
      // transaction is gone, and each member is tried on its own.
      this.tally.retriedGroups += 1;
      for (const member of group) await this.alone(member);
      return;
    }
    this.tally.commits += 1;
    this.tally.members += group.length;
    this.driver.committed();
    group.forEach((member, index) => member.resolve(results[index]));
  }

  private async alone(member: Member): Promise<void> {
    let result: unknown;
    try {
      result = await this.driver.transaction(member.work);
    } catch (error) {
      member.reject(this.driver.failed(error));
      return;
    }
    this.tally.commits += 1;
    this.tally.members += 1;
    this.driver.committed();
    member.resolve(result);
  }
}
