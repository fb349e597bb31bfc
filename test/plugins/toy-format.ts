// A toy rule format, written outside src/ the way a new format would be: its own document reader, and a
// detection that runs in another process (a Node child speaking JSON lines), as Python rules will.
//
//     toy-rule: Toy.BigTransfer
//     log-type: Toy.Transfers
//     severity: High
//     when: bytes above 1000000
//     expect-match: {"who": "ann", "bytes": 5000000}
//     expect-no-match: {"who": "bob", "bytes": 10}
//
// The child decides whether `field above number` holds and writes the title ("<who> moved <bytes>").
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Diagnostic } from '../../src/engine/diagnostics.js';
import type {
  BackendRequest,
  BackendVerdict,
  DetectionBackend,
  ReadResult,
  RuleFormat,
  RuleSourceReader,
} from '../../src/engine/formats/rule-format.js';
import { SEVERITIES, type Detection, type RuleDefinition, type Severity } from '../../src/engine/rule.js';
import type { JsonObject } from '../../src/engine/values.js';

export const TOY_FORMAT = 'toy';

interface ToyDetection extends Detection {
  readonly language: typeof TOY_FORMAT;
  readonly field: string;
  readonly above: number;
}

/** The child: one JSON line in, one out; each request's rules are `{ field, above }`. */
const CHILD_SCRIPT = `
const lines = require('node:readline').createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { id, requests } = JSON.parse(line);
  const verdicts = requests.map(({ event, rules }) =>
    rules.map(({ field, above }) => {
      const value = event[field];
      if (typeof value !== 'number') return { matched: false };
      if (value <= above) return { matched: false };
      return { matched: true, outputs: { title: String(event.who) + ' moved ' + value } };
    }),
  );
  process.stdout.write(JSON.stringify({ id, verdicts }) + '\\n');
});
`;

/** The toy detections' backend: one child process, started on first use, answering in order. */
export class ToyBackend implements DetectionBackend {
  readonly name = 'toy evaluator process';
  /** What each rule asks, by RuleID, as compiled (the last version compiled wins). */
  private readonly rules = new Map<string, { field: string; above: number }>();
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly waiting = new Map<number, (answer: BackendVerdict[][] | Error) => void>();
  private nextId = 0;
  /** Requests answered by the child, for tests to see that it was asked. */
  requestsAnswered = 0;

  learn(ruleId: string, detection: ToyDetection): void {
    this.rules.set(ruleId, { field: detection.field, above: detection.above });
  }

  async evaluate(requests: readonly BackendRequest[]): Promise<BackendVerdict[][]> {
    const child = this.start();
    const id = this.nextId++;
    const payload = requests.map(({ event, ruleIds }) => ({
      event,
      rules: ruleIds.map((ruleId) => this.rules.get(ruleId) ?? { field: '', above: Infinity }),
    }));
    const answer = await new Promise<BackendVerdict[][] | Error>((resolve) => {
      this.waiting.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ id, requests: payload })}\n`);
    });
    if (answer instanceof Error) throw answer;
    this.requestsAnswered += requests.length;
    return answer;
  }

  /** Stops the child; a later evaluation starts a new one. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPT], { stdio: 'pipe' });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const { id, verdicts } = JSON.parse(line) as { id: number; verdicts: BackendVerdict[][] };
      this.waiting.get(id)?.(verdicts);
      this.waiting.delete(id);
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      for (const resolve of this.waiting.values())
        resolve(new Error(`the toy evaluator exited (${signal ?? code})`));
      this.waiting.clear();
    });
    this.child = child;
    return child;
  }
}

/** `key: value` lines; blank lines and `#` comments are skipped. */
function readToyRule(text: string, file: string | undefined): ReadResult {
  const values = new Map<string, { value: string; line: number }>();
  const tests: RuleDefinition['tests'] = [];
  const diagnostics: Diagnostic[] = [];
  const error = (message: string, line?: number) =>
    diagnostics.push({ severity: 'error', code: 'toy_syntax', message, file, line });
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon < 0) return void error(`line ${index + 1} is not "key: value"`, index + 1);
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'expect-match' || key === 'expect-no-match') {
      tests.push({
        name: `line ${index + 1}`,
        expectedResult: key === 'expect-match',
        log: JSON.parse(value) as JsonObject,
      });
    } else values.set(key, { value, line: index + 1 });
  });
  const ruleId = values.get('toy-rule')?.value ?? '';
  const logType = values.get('log-type')?.value;
  const severity = values.get('severity')?.value ?? 'Info';
  const when = values.get('when');
  const condition = /^([A-Za-z_]\w*) above (-?\d+(?:\.\d+)?)$/.exec(when?.value ?? '');
  if (logType === undefined) error('a toy rule needs log-type');
  if (!(SEVERITIES as readonly string[]).includes(severity))
    error(`severity ${severity} is none of ${SEVERITIES.join(', ')}`, values.get('severity')?.line);
  if (!condition) error('when must read "<field> above <number>"', when?.line);
  if (diagnostics.length > 0 || !condition || logType === undefined) return { rules: [], diagnostics };
  const detection: ToyDetection = {
    language: TOY_FORMAT,
    field: condition[1] as string,
    above: Number(condition[2]),
  };
  const rule: RuleDefinition = {
    analysisType: 'rule',
    ruleId,
    enabled: true,
    logTypes: [logType],
    scheduledQueries: [],
    tags: ['toy'],
    reports: {},
    severity: severity as Severity,
    dedupPeriodMinutes: 60,
    threshold: 1,
    createAlert: true,
    summaryAttributes: [],
    detection,
    inlineFilters: [],
    alertContext: [{ keyName: 'who', key: { kind: 'Key', text: 'who', segments: ['who'] } }],
    groupBy: [],
    dynamicSeverities: [],
    tests,
    source: { file, line: 1, text },
  };
  return { rules: [rule], diagnostics };
}

export function toyFormat(backend: ToyBackend): RuleFormat {
  const reader: RuleSourceReader = {
    name: 'toy',
    claims: (text) => text.trimStart().startsWith('toy-rule:'),
    read: (text, options) => readToyRule(text, options.file),
  };
  return {
    name: TOY_FORMAT,
    reader,
    compile(definition) {
      const detection = definition.detection as ToyDetection;
      backend.learn(definition.ruleId, detection);
      // Nothing for the index (every event of the log type is a candidate); no p_ field is read.
      return { backend, requirements: [], readsNormalisedFields: false, keysIgnoreCase: false };
    },
  };
}
