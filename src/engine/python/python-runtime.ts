// The backend of Python rules: a small pool of sandboxed workers (python-worker.ts) that all hold the same
// helpers, data models and rules. Whatever changes those bumps a generation; a worker loads the current
// generation before its next request. A request that kills its worker (a deadline, a crash, os._exit) is
// run again one rule at a time on fresh workers, so that only the rule at fault gets errors.
import { createHash } from 'node:crypto';
import type { RuleTest } from '../rule.js';
import type {
  BackendRequest,
  BackendTestVerdict,
  BackendVerdict,
  DetectionBackend,
} from '../formats/rule-format.js';
import { backendOutputs } from '../formats/backend-verdicts.js';
import type { RuleOutputs } from '../outputs.js';
import { compileGuard, type CompiledGuard, type GuardSpec } from './guard-filter.js';
import { EMPTY_LIBRARY, type PythonLibrary } from './python-library.js';
import { PythonWorker, PythonWorkerError, type CacheHandler, type JsonMessage } from './python-worker.js';
import { DEFAULT_SANDBOX_OPTIONS, sandboxProblem, type PythonSandboxOptions } from './sandbox.js';

export interface PythonRuntimeOptions {
  sandbox: PythonSandboxOptions;
  /** Workers started at most. */
  workers: number;
  /** How long one request may take before its worker is killed. */
  requestDeadlineMs: number;
  /** Answers the rules' cache calls (panther_detection_helpers.caching). */
  cache: CacheHandler;
  /**
   * Whether rule() is skipped for events that fail the guards read from its source (see
   * python/tripline_runtime/guards.py). Off only to show that they change no result.
   */
  guards: boolean;
}

/** A Python rule as the workers load it, under its key (one per distinct source of a rule). */
interface LoadedRule {
  key: string;
  ruleId: string;
  file: string;
  body: string;
  logTypes: readonly string[];
}

/** What loading said, by name: Python's own errors with file and line. */
export interface PythonLoadReport {
  helperErrors: Record<string, string>;
  dataModelErrors: Record<string, string>;
  ruleErrors: Record<string, string>;
  ruleFunctions: Record<string, string[]>;
  /** The guards found in each rule that has any, described (`eventName in ['DeleteTrail']`). */
  ruleGuards: Record<string, string[]>;
}

const noCache: CacheHandler = () =>
  Promise.reject(new Error('the rule cache is not available here (tripline test: mock the cache calls)'));

/**
 * Versions of rules defined but no longer active that stay loaded: an upload's tests define its version
 * beside the active one, and the next few uploads may still be testing theirs.
 */
const RETAINED_INACTIVE_RULES = 100;

/** Workers a rule may end in a row before it is suspended, and for how long. */
const SUSPEND_AFTER_KILLS = 3;
const SUSPEND_MS = 10 * 60_000;

/** Requests below which a set is not shared out among workers. */
const MIN_SHARE_REQUESTS = 250;

export const DEFAULT_RUNTIME_OPTIONS: PythonRuntimeOptions = {
  sandbox: DEFAULT_SANDBOX_OPTIONS,
  workers: 1,
  requestDeadlineMs: Number(process.env.PYTHON_REQUEST_DEADLINE_MS ?? 30_000),
  cache: noCache,
  guards: process.env.TRIPLINE_PYTHON_GUARDS !== 'off',
};

export class PythonRuntime implements DetectionBackend {
  readonly name = 'python';
  private options: PythonRuntimeOptions;
  private library: PythonLibrary = EMPTY_LIBRARY;
  private readonly rules = new Map<string, LoadedRule>();
  /** Rule versions (by key) whose loading killed a worker, and why: never loaded again. */
  private readonly unloadable = new Map<string, string>();
  private searching: Promise<void> | undefined;
  /** The guards each loaded rule version's source opens with, by key (guard-filter.ts). */
  private readonly guards = new Map<string, CompiledGuard[]>();
  private readonly stats = { eventsSent: 0, eventsKept: 0, rulesSkipped: 0 };
  /**
   * Rules that ended their worker (a deadline or a crash, found on the rule-by-rule rerun), by key: each
   * such batch costs a deadline, so after a few in a row the rule is left out for a while.
   */
  private readonly killers = new Map<string, { count: number; until: number; message: string }>();
  private generation = 0;
  private report?: { generation: number; report: PythonLoadReport };
  private readonly idle: PythonWorker[] = [];
  private readonly waiting: { resolve(worker: PythonWorker): void; reject(error: unknown): void }[] = [];
  private started = 0;
  /** Workers started before the last close() end when they are released. */
  private readonly closing = new WeakSet<PythonWorker>();
  private readonly busy = new Set<PythonWorker>();
  private cache: CacheHandler;

  constructor(options: Partial<PythonRuntimeOptions> = {}) {
    this.options = { ...DEFAULT_RUNTIME_OPTIONS, ...options };
    this.cache = this.options.cache;
  }

  /** New limits and sandbox settings: workers started from now on use them (the idle ones end now). */
  configure(options: Partial<PythonRuntimeOptions>): void {
    this.options = { ...this.options, ...options };
    this.close();
  }

  /** Why Python rules cannot run on this machine, or undefined. */
  problem(): string | undefined {
    return sandboxProblem(this.options.sandbox);
  }

  /** Where the rules' cache calls go from now on, in every worker. */
  useCache(cache: CacheHandler): void {
    this.cache = cache;
  }

  setLibrary(library: PythonLibrary): void {
    this.library = library;
    this.generation += 1;
    // A guard may read a helper's constants (`in WATCHED_CALLS`): the next load says them again.
    this.guards.clear();
  }

  /**
   * Makes a rule's source known to the workers, under a key of its own that the rule's requests and tests
   * name: a version being tested never replaces the version that ingest runs.
   */
  defineRule(ruleId: string, file: string, body: string, logTypes: readonly string[]): string {
    const key = `${ruleId}@${createHash('sha256')
      .update([file, body, ...logTypes].join('\u0000'))
      .digest('hex')
      .slice(0, 16)}`;
    const known = this.rules.get(key);
    this.rules.delete(key); // most recently defined last: what retain() keeps
    if (known) this.rules.set(key, known);
    else {
      this.rules.set(key, { key, ruleId, file, body, logTypes: [...logTypes] });
      this.generation += 1;
    }
    return key;
  }

  /** Forgets rule versions that are neither in `keys` nor among the last few defined. */
  retain(keys: ReadonlySet<string>): void {
    let inactive = [...this.rules.keys()].filter((key) => !keys.has(key)).length;
    for (const key of this.rules.keys()) {
      if (inactive <= RETAINED_INACTIVE_RULES) break;
      if (keys.has(key)) continue;
      this.rules.delete(key);
      this.unloadable.delete(key);
      this.guards.delete(key);
      this.killers.delete(key);
      inactive -= 1;
      this.generation += 1;
    }
  }

  /** What loading the current helpers, data models and rules says, rules by RuleID. */
  async loadReport(): Promise<PythonLoadReport> {
    const report = await this.keyedReport();
    const byRuleId = <T>(byKey: Record<string, T>): Record<string, T> =>
      Object.fromEntries(
        Object.entries(byKey).map(([key, value]) => [this.rules.get(key)?.ruleId ?? key, value]),
      );
    return {
      ...report,
      ruleErrors: byRuleId(report.ruleErrors),
      ruleFunctions: byRuleId(report.ruleFunctions),
      ruleGuards: byRuleId(report.ruleGuards),
    };
  }

  /** The load report as the workers gave it, rules by their keys. */
  private keyedReport(): Promise<PythonLoadReport> {
    return this.withWorker(() => Promise.resolve((this.report as { report: PythonLoadReport }).report));
  }

  /**
   * Each request's verdicts. A large set of requests is cut into one share per worker, evaluated side by
   * side (a share is a few hundred events at least: below that, one worker answers sooner).
   */
  async evaluate(requests: readonly BackendRequest[]): Promise<BackendVerdict[][]> {
    const verdicts: BackendVerdict[][] = requests.map((request) =>
      request.ruleIds.map((): BackendVerdict => ({ matched: false })),
    );
    // Only the rules whose guards the event can pass are asked; an event none would look at stays here.
    const asked: { index: number; positions: number[]; request: BackendRequest }[] = [];
    // Events that keep the same rules share one list, so that each list is encoded once (encodeRequests).
    const lists = new Map<string, readonly string[]>();
    const listIds = new Map<readonly string[], number>();
    const now = Date.now();
    requests.forEach((request, index) => {
      const positions: number[] = [];
      request.ruleIds.forEach((key, position) => {
        const suspended = this.suspension(key, now);
        if (suspended !== undefined) {
          (verdicts[index] as BackendVerdict[])[position] = { error: suspended };
          return;
        }
        const guards = this.options.guards ? this.guards.get(key) : undefined;
        if (guards === undefined || guards.every((admits) => admits(request.event))) positions.push(position);
      });
      this.stats.rulesSkipped += request.ruleIds.length - positions.length;
      if (positions.length === 0) {
        this.stats.eventsKept += 1;
        return;
      }
      this.stats.eventsSent += 1;
      let ruleIds = request.ruleIds;
      if (positions.length < request.ruleIds.length) {
        let listId = listIds.get(request.ruleIds);
        if (listId === undefined) listIds.set(request.ruleIds, (listId = listIds.size));
        const key = `${listId}:${positions.join(',')}`;
        const known = lists.get(key);
        if (known) ruleIds = known;
        else {
          ruleIds = positions.map((position) => request.ruleIds[position] as string);
          lists.set(key, ruleIds);
        }
      }
      asked.push({ index, positions, request: { event: request.event, ruleIds } });
    });
    const shares = this.shares(asked.map((item) => item.request));
    const answers = (await Promise.all(shares.map((share) => this.evaluateShare(share)))).flat();
    answers.forEach((answer, at) => {
      const item = asked[at];
      const row = item && verdicts[item.index];
      if (!item || !row) return;
      answer.forEach((verdict, position) => (row[item.positions[position] as number] = verdict));
    });
    return verdicts;
  }

  /** Counts a worker a rule ended on its own; the third in a row suspends it for a while. */
  private blame(key: string, message: string): void {
    const known = this.killers.get(key) ?? { count: 0, until: 0, message };
    known.count += 1;
    known.message = message;
    if (known.count >= SUSPEND_AFTER_KILLS) known.until = Date.now() + SUSPEND_MS;
    this.killers.set(key, known);
  }

  /** Why a rule is not evaluated now, or undefined when it is. */
  private suspension(key: string, now: number): string | undefined {
    const killer = this.killers.get(key);
    if (killer === undefined || killer.until <= now) return undefined;
    return `${killer.message}; it ended its worker ${killer.count} times in a row and is not evaluated until ${new Date(killer.until).toISOString()}`;
  }

  /** Events and rules the guards kept from the workers since the runtime started. */
  guardStats(): Readonly<{ eventsSent: number; eventsKept: number; rulesSkipped: number }> {
    return { ...this.stats };
  }

  /** One worker's share; when its worker dies under it, the share is run again rule by rule. */
  private async evaluateShare(requests: readonly BackendRequest[]): Promise<BackendVerdict[][]> {
    const verdicts: BackendVerdict[][] = requests.map((request) =>
      request.ruleIds.map((): BackendVerdict => ({ matched: false })),
    );
    if (requests.length === 0) return verdicts;
    try {
      await this.evaluateInto(requests, verdicts);
      for (const request of requests) for (const key of request.ruleIds) this.killers.delete(key);
    } catch (error) {
      if (!(error instanceof PythonWorkerError)) throw error;
      // The worker died under the whole request: once more, rule by rule, to find the one at fault.
      for (const ruleId of new Set(requests.flatMap((request) => request.ruleIds))) {
        const subset = requests
          .map((request, index) => ({ request, index }))
          .filter(({ request }) => request.ruleIds.includes(ruleId));
        const single = subset.map(({ request }) => ({ event: request.event, ruleIds: [ruleId] }));
        const singleVerdicts = single.map((): BackendVerdict[] => [{ matched: false }]);
        try {
          await this.evaluateInto(single, singleVerdicts);
          this.killers.delete(ruleId);
        } catch (again) {
          if (!(again instanceof PythonWorkerError)) throw again;
          const message = `rule ${this.rules.get(ruleId)?.ruleId ?? ruleId}: ${again.message}`;
          this.blame(ruleId, message);
          for (const row of singleVerdicts) row[0] = { error: message };
        }
        subset.forEach(({ request, index }, position) => {
          const verdict = singleVerdicts[position]?.[0] as BackendVerdict;
          (verdicts[index] as BackendVerdict[])[request.ruleIds.indexOf(ruleId)] = verdict;
        });
      }
    }
    return verdicts;
  }

  /** One of the rule's tests (the rule by the key defineRule gave), its Mocks applied inside the worker. */
  async runTest(key: string, test: RuleTest, event: unknown): Promise<BackendTestVerdict> {
    const loadError = await this.loadError(key);
    if (loadError !== undefined) return { error: loadError };
    try {
      const answer = await this.withWorker((worker) =>
        worker.request(
          { op: 'test', rule: key, log: event, mocks: test.mocks ?? [], logType: test.logType ?? null },
          this.options.requestDeadlineMs,
        ),
      );
      if (typeof answer.error === 'string') return { error: answer.error };
      if (answer.matched !== true) return { matched: false };
      return {
        matched: true,
        // Checked and cut as an ingest verdict's outputs are.
        outputs: backendOutputs(answer.outputs),
        functionErrors: record(answer.errors),
      };
    } catch (error) {
      if (error instanceof PythonWorkerError) return { error: error.message };
      throw error;
    }
  }

  /**
   * The requests sent to a worker and answered without evaluating anything: what the pipe, the JSON and
   * the worker's loop cost alone (the benchmark's floor).
   */
  async roundTrip(requests: readonly BackendRequest[]): Promise<void> {
    const send = async (share: readonly BackendRequest[]) => {
      const message = encodeRequests(share);
      const answer = await this.withWorker((worker) =>
        worker.request({ op: 'roundtrip', ...message }, this.options.requestDeadlineMs),
      );
      if (typeof answer.error === 'string') throw new PythonWorkerError(answer.error);
    };
    await Promise.all(this.shares(requests).map(send));
  }

  /** Requests cut into one share per worker when there are enough of them (see evaluate). */
  private shares(requests: readonly BackendRequest[]): (readonly BackendRequest[])[] {
    const count = Math.min(this.options.workers, Math.floor(requests.length / MIN_SHARE_REQUESTS));
    if (count <= 1) return [requests];
    const size = Math.ceil(requests.length / count);
    return Array.from({ length: count }, (_, share) => requests.slice(share * size, (share + 1) * size));
  }

  /**
   * Ends every worker: idle ones now, busy ones when their request is answered. The runtime stays usable:
   * the next request starts a new worker (one process runs several apps in the tests).
   */
  close(): void {
    for (const worker of this.busy) this.closing.add(worker);
    for (const worker of this.idle.splice(0)) {
      this.started -= 1;
      worker.close();
    }
  }

  private async loadError(key: string): Promise<string | undefined> {
    const report = await this.keyedReport();
    const error = report.ruleErrors[key];
    if (error !== undefined) return error;
    if (!(key in report.ruleFunctions)) return `rule ${key} is not a Python rule of this runtime`;
    return undefined;
  }

  private async evaluateInto(
    requests: readonly BackendRequest[],
    verdicts: BackendVerdict[][],
  ): Promise<void> {
    const message = encodeRequests(requests);
    const answer = await this.withWorker((worker) =>
      worker.request({ op: 'evaluate', ...message }, this.options.requestDeadlineMs),
    );
    if (typeof answer.error === 'string') throw new PythonWorkerError(answer.error);
    for (const [position, rulePosition, outputs] of asRows(answer.matches)) {
      const row = verdicts[position as number];
      if (row) row[rulePosition as number] = { matched: true, outputs: outputs as Partial<RuleOutputs> };
    }
    for (const [position, rulePosition, message] of asRows(answer.errors)) {
      const row = verdicts[position as number];
      if (row) row[rulePosition as number] = { error: String(message) };
    }
    // A rule that did not load says why, rather than that the worker does not know it.
    const report = this.report?.report;
    requests.forEach((request, position) =>
      request.ruleIds.forEach((key, rulePosition) => {
        const error = report?.ruleErrors[key];
        const row = verdicts[position];
        if (error !== undefined && row)
          row[rulePosition] = { error: `rule ${this.rules.get(key)?.ruleId ?? key} did not load: ${error}` };
      }),
    );
  }

  /** Runs `work` on a worker that holds the current generation. */
  private async withWorker<T>(work: (worker: PythonWorker) => Promise<T>): Promise<T> {
    const worker = await this.acquire();
    this.busy.add(worker);
    try {
      if (worker.loadedGeneration !== this.generation) await this.load(worker);
      return await work(worker);
    } finally {
      this.busy.delete(worker);
      this.release(worker);
    }
  }

  private async load(worker: PythonWorker): Promise<void> {
    const generation = this.generation;
    let answer: JsonMessage;
    try {
      answer = await worker.request(
        this.loadMessage([...this.rules.values()].filter((rule) => !this.unloadable.has(rule.key))),
        this.options.requestDeadlineMs,
      );
    } catch (error) {
      if (error instanceof PythonWorkerError) {
        // Workers that failed the same load together wait for one search.
        this.searching ??= this.findUnloadable().finally(() => (this.searching = undefined));
        await this.searching;
      }
      throw error;
    }
    if (typeof answer.error === 'string') throw new PythonWorkerError(`loading the rules: ${answer.error}`);
    worker.loadedGeneration = generation;
    const ruleErrors = record(answer.ruleErrors);
    for (const [key, error] of this.unloadable) ruleErrors[key] = error;
    // A key names one source, so its guards stay right for as long as it is loaded.
    for (const [key, specs] of Object.entries((answer.guardSpecs ?? {}) as Record<string, GuardSpec[]>)) {
      const compiled = specs.map(compileGuard).filter((guard): guard is CompiledGuard => guard !== undefined);
      if (compiled.length > 0) this.guards.set(key, compiled);
    }
    this.report = {
      generation,
      report: {
        helperErrors: record(answer.helperErrors),
        dataModelErrors: record(answer.dataModelErrors),
        ruleErrors,
        ruleFunctions: (answer.ruleFunctions ?? {}) as Record<string, string[]>,
        ruleGuards: (answer.ruleGuards ?? {}) as Record<string, string[]>,
      },
    };
  }

  /**
   * A load killed its worker: some rule's top level never returns, even when interrupted (it swallows
   * the per-call limit, or waits in C). Each rule is loaded alone in a worker of its own; the ones that
   * kill it are left out of every load from now on, with that as their error.
   */
  private async findUnloadable(): Promise<void> {
    for (const rule of this.rules.values()) {
      if (this.unloadable.has(rule.key)) continue;
      const probe = new PythonWorker(this.options.sandbox, noCache);
      try {
        await probe.ready();
      } catch (error) {
        probe.kill();
        throw error; // no worker starts at all: nothing to blame on a rule
      }
      try {
        await probe.request(this.loadMessage([rule]), this.options.requestDeadlineMs);
      } catch (error) {
        if (!(error instanceof PythonWorkerError)) throw error;
        this.unloadable.set(
          rule.key,
          `loading ${rule.file} never finished (${error.message}); it is left out`,
        );
      } finally {
        probe.kill();
      }
    }
    this.generation += 1;
  }

  private loadMessage(rules: readonly LoadedRule[]): JsonMessage {
    return {
      op: 'load',
      guards: this.options.guards,
      helpers: this.library.helpers.map((helper) => ({
        name: helper.globalId,
        source: helper.body,
        file: helper.filename,
      })),
      dataModels: this.library.dataModels
        .filter((model) => model.enabled)
        .map((model) => ({
          id: model.dataModelId,
          logTypes: model.logTypes,
          mappings: model.mappings,
          source: model.body ?? null,
          file: model.filename ?? null,
        })),
      rules: rules.map((rule) => ({
        id: rule.key,
        name: rule.ruleId,
        source: rule.body,
        file: rule.file,
        logTypes: rule.logTypes,
      })),
    };
  }

  private async acquire(): Promise<PythonWorker> {
    for (;;) {
      const worker = this.idle.pop();
      if (worker === undefined) break;
      if (worker.alive) return worker;
      this.started -= 1;
    }
    if (this.started < this.options.workers) {
      const problem = this.problem();
      if (problem !== undefined) throw new PythonWorkerError(problem);
      this.started += 1;
      const worker = new PythonWorker(this.options.sandbox, (operation, args) => this.cache(operation, args));
      try {
        await worker.ready();
      } catch (error) {
        this.started -= 1;
        worker.kill();
        throw error instanceof PythonWorkerError ? error : new PythonWorkerError(String(error));
      }
      return worker;
    }
    return new Promise<PythonWorker>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(worker: PythonWorker): void {
    if (!worker.alive) {
      this.started -= 1;
      // Someone waits for a worker: start one for them, or tell them why none starts.
      const next = this.waiting.shift();
      if (next)
        this.acquire().then(
          (started) => next.resolve(started),
          (error: unknown) => next.reject(error),
        );
      return;
    }
    if (this.closing.has(worker)) {
      this.started -= 1;
      worker.close();
      const waiting = this.waiting.shift();
      if (waiting)
        this.acquire().then(
          (started) => waiting.resolve(started),
          (error: unknown) => waiting.reject(error),
        );
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve(worker);
    else this.idle.push(worker);
  }
}

/** A request for a worker: events sent once each, and rule lists once each, as positions in a table of rule ids. */
function encodeRequests(requests: readonly BackendRequest[]): {
  events: unknown[];
  rules: string[];
  lists: number[][];
  requests: number[][];
} {
  const eventIndex = new Map<unknown, number>();
  const events: unknown[] = [];
  const ruleTable: string[] = [];
  const rulePosition = new Map<string, number>();
  const lists: number[][] = [];
  const listPosition = new Map<readonly string[], number>();
  const listByText = new Map<string, number>();
  const wire = requests.map((request) => {
    let index = eventIndex.get(request.event);
    if (index === undefined) {
      index = events.length;
      events.push(request.event);
      eventIndex.set(request.event, index);
    }
    let list = listPosition.get(request.ruleIds);
    if (list === undefined) {
      const text = request.ruleIds.join('\u0000');
      list = listByText.get(text);
      if (list === undefined) {
        list = lists.length;
        lists.push(
          request.ruleIds.map((ruleId) => {
            let position = rulePosition.get(ruleId);
            if (position === undefined) {
              position = ruleTable.length;
              ruleTable.push(ruleId);
              rulePosition.set(ruleId, position);
            }
            return position;
          }),
        );
        listByText.set(text, list);
      }
      listPosition.set(request.ruleIds, list);
    }
    return [index, list];
  });
  return { events, rules: ruleTable, lists, requests: wire };
}

function asRows(value: unknown): unknown[][] {
  return Array.isArray(value) ? value.filter((row): row is unknown[] => Array.isArray(row)) : [];
}

function record(value: unknown): Record<string, string> {
  return typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
}

let shared: PythonRuntime | undefined;

/** The runtime this process's Python rules compile against. */
export function sharedPythonRuntime(): PythonRuntime {
  shared ??= new PythonRuntime();
  return shared;
}
