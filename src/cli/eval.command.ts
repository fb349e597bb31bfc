import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { prepareEvent, isValidLogTypeName, type DeferredNormalisation } from '../engine/events.js';
import { loadRulePaths } from '../engine/pack.js';
import { MemoryRuleCache } from '../engine/python/memory-rule-cache.js';
import { sharedPythonRuntime } from '../engine/python/python-runtime.js';
import { RuleSet, type BackendWork, type RuleErrorReport } from '../engine/rule-set.js';
import { UsageError, type CommandOptions } from './command-options.js';
import { printDiagnostics, write } from './output.js';

function openEvents(path: string): Readable {
  const raw: Readable = path === '-' ? process.stdin : createReadStream(path);
  return path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

/**
 * `tripline eval`: streams NDJSON events (one line at a time, so a file of any size runs in constant
 * memory) through the rules and prints each hit as one NDJSON line.
 */
export async function evalCommand(positionals: string[], options: CommandOptions): Promise<number> {
  // Python rules run in worker processes, which must not outlive the command.
  try {
    return await evaluateEvents(positionals, options);
  } finally {
    sharedPythonRuntime().close();
  }
}

/** Events evaluated together: one request to each backend per this many. */
const EVAL_BATCH_EVENTS = 500;

interface PendingEvent {
  index: number;
  event: unknown;
  logType: string;
  deferred?: DeferredNormalisation;
}

async function evaluateEvents(positionals: string[], options: CommandOptions): Promise<number> {
  const rulePaths = options.rules ?? [];
  const eventsPath = options.events;
  if (rulePaths.length === 0 || eventsPath === undefined)
    throw new UsageError('eval needs --rules PATH and --events FILE');
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const logType = options['log-type'];
  if (logType !== undefined && !isValidLogTypeName(logType))
    throw new UsageError(`--log-type ${JSON.stringify(logType)} is not a log type name`);

  if (eventsPath !== '-') {
    try {
      await access(eventsPath, constants.R_OK);
    } catch {
      throw new UsageError(`cannot read --events ${JSON.stringify(eventsPath)}`);
    }
  }
  const loaded = await loadRulePaths(rulePaths, { ignoreExtraKeys: options['ignore-extra-keys'] });
  printDiagnostics(loaded.diagnostics);
  if (loaded.diagnostics.some((diagnostic) => diagnostic.severity === 'error')) return 1;
  const definitions = options['include-disabled']
    ? loaded.rules
    : loaded.rules.filter((rule) => rule.enabled);
  const python = sharedPythonRuntime();
  python.setLibrary(loaded.library);
  // Python rules that remember (panther_detection_helpers.caching) remember across this run's events.
  python.useCache(new MemoryRuleCache().handle);
  const ruleSet = RuleSet.compile(definitions);

  const started = process.hrtime.bigint();
  const hitsByRule = new Map<string, number>();
  const errorsByRule = new Map<string, { count: number; first: string }>();
  const countError = ({ ruleId, error }: RuleErrorReport) => {
    const known = errorsByRule.get(ruleId);
    if (known) known.count += 1;
    else
      errorsByRule.set(ruleId, { count: 1, first: error instanceof Error ? error.message : String(error) });
  };
  // Events wait here so that rules run in a backend (Python) get many events per request.
  let pending: PendingEvent[] = [];
  const flush = async (): Promise<number> => {
    const batch = pending;
    pending = [];
    const inProcess = batch.map((item) =>
      ruleSet.evaluate(item.event, item.logType, countError, item.deferred),
    );
    const work = batch.map((item) =>
      ruleSet.backendWork(item.event, item.logType, countError, item.deferred),
    );
    const asked = work.filter((item): item is BackendWork => item !== undefined);
    const answered = asked.length > 0 ? await ruleSet.evaluateInBackends(asked, countError) : [];
    let next = 0;
    let written = 0;
    for (const [position, item] of batch.entries()) {
      const fromBackends = work[position] === undefined ? [] : (answered[next++] ?? []);
      for (const hit of ruleSet.inRuleOrder(inProcess[position] ?? [], fromBackends)) {
        written += 1;
        hitsByRule.set(hit.ruleId, (hitsByRule.get(hit.ruleId) ?? 0) + 1);
        const record = {
          ruleId: hit.ruleId,
          title: hit.title,
          dedup: hit.dedup,
          severity: hit.severity,
          alertContext: hit.alertContext,
          index: item.index,
        };
        await write(process.stdout, `${JSON.stringify(record)}\n`);
      }
    }
    return written;
  };
  let index = -1;
  let events = 0;
  let rejected = 0;
  let hits = 0;
  const lines = createInterface({ input: openEvents(eventsPath), crlfDelay: Infinity });
  for await (const line of lines) {
    index += 1;
    if (line.trim() === '') continue;
    events += 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      rejected += 1;
      process.stderr.write(
        `line ${index + 1}: not JSON: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      continue;
    }
    const prepared = prepareEvent(value, { logType, receivedAt: new Date(), deferNormalisation: true });
    if (!prepared.ok) {
      rejected += 1;
      process.stderr.write(`line ${index + 1}: ${prepared.error}\n`);
      continue;
    }
    pending.push({ index, event: prepared.event, logType: prepared.logType, deferred: prepared.deferred });
    if (pending.length >= EVAL_BATCH_EVENTS) hits += await flush();
  }
  hits += await flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = seconds > 0 ? Math.round(events / seconds) : events;
  process.stderr.write(
    `${events} events, ${rejected} rejected, ${hits} hits from ${ruleSet.size} rules in ${seconds.toFixed(2)} s (${rate} events/s)\n`,
  );
  const guarded = python.guardStats();
  if (guarded.eventsSent + guarded.eventsKept > 0)
    process.stderr.write(
      `Python rules: ${guarded.eventsSent} events sent to the workers, ${guarded.eventsKept} kept back and ${guarded.rulesSkipped} rule calls spared by the rules' guards\n`,
    );
  for (const [ruleId, count] of [...hitsByRule].sort()) process.stderr.write(`  ${ruleId}: ${count} hits\n`);
  for (const [ruleId, { count, first }] of [...errorsByRule].sort())
    process.stderr.write(`  ${ruleId}: ${count} errors (the first: ${first.slice(0, 300)})\n`);
  return 0;
}
