// A deterministic fuzz of the whole API: 1,000 requests drawn from a seeded PRNG across every operation of
// the served OpenAPI document, with every content type and bodies that are random bytes, random JSON or
// mutations of valid examples. No answer may be a 5xx, every error must be problem+json (on the forwarder
// routes, their protocol's own error answer), and the server must still be ready afterwards.
// FUZZ_SEED=<n> replays another sequence; the requests depend only on the seed (answers may differ slightly between runs, as concurrent requests change the rules they act on).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  seedExternalPrincipalAccess,
  seedNonVpcEvent,
  seedSameAccountAccess,
} from './fixtures/seed-events.js';
import { bearer, http, removeDatabase, startApp, type RunningApp } from './support/app.js';
import { REPO_ROOT } from './support/shared.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_250_601);
const REQUESTS = 1000;
const CONCURRENCY = 8;
const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';

/** `undefined`: no Content-Type header at all. */
const CONTENT_TYPES = [
  'application/json',
  'application/x-ndjson',
  'application/yaml',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data',
  undefined,
] as const;
type ContentType = (typeof CONTENT_TYPES)[number];

// ---------------------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in [0, max). */
  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(256)));
  }

  /** A string of characters chosen from `alphabet`, 0 to `max` of them. */
  text(alphabet: readonly string[], max: number): string {
    return Array.from({ length: this.int(max + 1) }, () => this.pick(alphabet)).join('');
  }
}

/** Characters for strings: ordinary, JSON- and YAML-significant, control, bidi, astral. No lone surrogates (they cannot be URL-encoded). */
const CHARACTERS = [
  ...'abcXYZ019._:-/\\ %&?#=+*@!$\'"`{}[]<>|,;\n\t\r'.split(''),
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  'ß',
  '\u200b',
  '\u202e',
  '\u2028',
  '\ufeff',
  '\uffff',
  '😀',
];
const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'p_log_type',
  'eventName',
  'Records',
  'events',
  'enabled',
];

// ---------------------------------------------------------------------------------------------------------
// Valid examples, to be mutated

interface Examples {
  ruleYaml: string[];
  ruleJson: string;
  pack: string;
  events: string[];
  testBody: string;
  patchRule: string;
  patchAlert: string;
}

function loadExamples(): Examples {
  const rulesDir = join(REPO_ROOT, 'rules');
  const ruleYaml = readdirSync(rulesDir)
    .filter((name) => name.endsWith('.yml'))
    .sort()
    .map((name) => readFileSync(join(rulesDir, name), 'utf8'));
  const events = [
    { ...seedExternalPrincipalAccess(), eventID: 'fuzz-1' },
    seedSameAccountAccess(),
    seedNonVpcEvent(),
  ];
  const small = `AnalysisType: rule
RuleID: Fuzz.Small
LogTypes: [AWS.CloudTrail]
Severity: Low
Condition: eventName eq "GetObject"
Tests:
  - Name: get
    ExpectedResult: true
    Log: { eventName: GetObject }
`;
  return {
    ruleYaml: [...ruleYaml, small],
    ruleJson: JSON.stringify({
      AnalysisType: 'rule',
      RuleID: 'Fuzz.Json',
      LogTypes: ['AWS.CloudTrail'],
      Severity: 'High',
      Detection: [{ Key: 'eventName', Condition: 'Equals', Value: 'StopLogging' }],
      Tests: [{ Name: 'stop', ExpectedResult: true, Log: { eventName: 'StopLogging' } }],
    }),
    pack: `${ruleYaml[0] ?? small}---\n${small}`,
    events: [
      JSON.stringify(events),
      events.map((event) => JSON.stringify(event)).join('\n'),
      JSON.stringify({ Records: events }),
    ],
    testBody: JSON.stringify({ events }),
    patchRule: '{"enabled":false}',
    patchAlert: '{"status":"acknowledged","comment":"fuzz"}',
  };
}

/** The examples that fit an operation; other operations get any of them. */
function examplesFor(examples: Examples, method: string, template: string): string[] {
  const key = `${method} ${template}`;
  if (key === 'POST /v1/rules' || key === 'PUT /v1/rules/{ruleId}')
    return [...examples.ruleYaml, examples.ruleJson];
  if (key === 'POST /v1/rules/import') return [examples.pack, ...examples.ruleYaml];
  if (key === 'POST /v1/events') return examples.events;
  if (key === 'POST /v1/rules/{ruleId}/test') return [examples.testBody];
  if (key === 'PATCH /v1/rules/{ruleId}') return [examples.patchRule];
  if (key === 'PATCH /v1/alerts/{id}') return [examples.patchAlert];
  return [
    ...examples.ruleYaml,
    examples.ruleJson,
    examples.pack,
    ...examples.events,
    examples.testBody,
    examples.patchRule,
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Bodies

/** JSON text, valid or nearly: numbers JSON.parse turns to Infinity, escapes of lone surrogates and NUL. */
function randomJson(random: Random, depth: number): string {
  const choice = random.int(depth <= 0 ? 4 : 6);
  switch (choice) {
    case 0:
      return random.pick(['null', 'true', 'false']);
    case 1:
      return random.pick([
        '0',
        '-0',
        '1',
        '-1',
        '1.5',
        '1e400',
        '-1e400',
        '123456789012345678901234567890',
        '1e-400',
      ]);
    case 2:
      return JSON.stringify(random.text(CHARACTERS, 20));
    case 3:
      return random.pick([
        '"\\ud800"',
        '"\\udfff\\u0000"',
        '"\\u202e"',
        '"2023-03-01T00:00:00Z"',
        '"AWS.CloudTrail"',
      ]);
    case 4:
      return `[${Array.from({ length: random.int(5) }, () => randomJson(random, depth - 1)).join(',')}]`;
    default: {
      const members = Array.from({ length: random.int(6) }, () => {
        const key = random.chance(0.5) ? random.pick(KEYS) : random.text(CHARACTERS, 8);
        return `${JSON.stringify(key)}:${randomJson(random, depth - 1)}`;
      });
      return `{${members.join(',')}}`;
    }
  }
}

const INSERTIONS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  '\u0000',
  '\\u0000',
  '\\ud800',
  '\n',
  '---\n',
  '&a ',
  '*a',
  '__proto__',
];

/** One mutation of a valid body: flipped bytes, truncation, duplication, an inserted token, or deep nesting. */
function mutate(random: Random, body: Buffer): Buffer {
  const at = random.int(body.length + 1);
  switch (random.int(6)) {
    case 0: {
      const flipped = Buffer.from(body);
      for (let i = 1 + random.int(8); i > 0 && flipped.length > 0; i -= 1) {
        const position = random.int(flipped.length);
        flipped[position] = (flipped[position] ?? 0) ^ (1 + random.int(255));
      }
      return flipped;
    }
    case 1:
      return body.subarray(0, at);
    case 2: {
      const slice = body.subarray(at, at + 1 + random.int(200));
      return Buffer.concat([body.subarray(0, at), slice, slice, body.subarray(at)]);
    }
    case 3: {
      const token = Buffer.from(random.pick(INSERTIONS));
      return Buffer.concat([body.subarray(0, at), token, body.subarray(at)]);
    }
    case 4: {
      const levels = 1 + random.int(200);
      return Buffer.from(`${'['.repeat(levels)}${body.toString('utf8')}${']'.repeat(levels)}`);
    }
    default: {
      // Unbalanced nesting in the middle of the body.
      const opening = Buffer.from('{"a":'.repeat(1 + random.int(150)));
      return Buffer.concat([body.subarray(0, at), opening, body.subarray(at)]);
    }
  }
}

function randomBody(random: Random, examples: string[]): { kind: string; body: Buffer } {
  const roll = random.int(100);
  if (roll < 20) {
    const length = random.chance(0.05) ? random.int(65_536) : random.int(2048);
    return { kind: 'random bytes', body: random.bytes(length) };
  }
  if (roll < 45) return { kind: 'random JSON', body: Buffer.from(randomJson(random, 4)) };
  const example = Buffer.from(random.pick(examples));
  if (roll < 55) return { kind: 'valid example', body: example };
  let mutated: Buffer = example;
  for (let i = 1 + random.int(3); i > 0; i -= 1) mutated = mutate(random, mutated);
  return { kind: 'mutated example', body: mutated };
}

function multipart(body: Buffer, boundary: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="body"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    body,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Requests

interface Operation {
  method: string;
  template: string;
  query: string[];
  headers: string[];
}

interface FuzzRequest {
  index: number;
  operation: string;
  method: string;
  path: string;
  contentType: ContentType;
  headers: Record<string, string>;
  kind: string;
  body?: Buffer;
}

interface Outcome {
  request: FuzzRequest;
  status: number;
  contentType: string;
  text: string;
}

function operationsOf(document: any): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries<any>(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const operation = item[method];
      if (!operation) continue;
      const parameters: { in: string; name: string }[] = operation.parameters ?? [];
      operations.push({
        method: method.toUpperCase(),
        template,
        query: parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        headers: parameters
          .filter((parameter) => parameter.in === 'header')
          .map((parameter) => parameter.name),
      });
    }
  }
  return operations;
}

function pathValue(random: Random, name: string, method: string): string {
  if (name === 'ruleId') {
    // DELETE aims at the rules the fuzz creates, so that the seed rule lives on for the deeper operations.
    const existing = method === 'DELETE' ? 'Fuzz.Json' : SEED_RULE_ID;
    return random.pick([
      existing,
      existing,
      'Fuzz.Small',
      encodeURIComponent(random.text(CHARACTERS, 30)) || 'x',
      String(random.int(1000)),
      '..%2F..%2Fetc%2Fpasswd',
      '%00',
      '%zz',
      'a'.repeat(1 + random.int(1500)),
    ]);
  }
  return random.pick([
    '1',
    '2',
    '3',
    String(random.int(100_000)),
    '0',
    '-1',
    '1.5',
    'abc',
    '1e400',
    '%00',
    '99999999999999999999',
  ]);
}

const QUERY_VALUES = [
  'true',
  'false',
  'maybe',
  '1',
  '0',
  '-1',
  '1000',
  'abc',
  '1e400',
  '2025-01-31T12:00:00Z',
  '2023-02-30',
  'not-a-date',
  'High',
  'NOPE',
  'AWS.CloudTrail',
  '../etc',
  'day',
  'navigator',
  'open',
  SEED_RULE_ID,
  "' OR '1'='1",
];

function randomQuery(random: Random, operation: Operation): string {
  if (random.chance(0.5)) return '';
  const pairs = Array.from({ length: 1 + random.int(3) }, () => {
    const name =
      random.chance(0.75) && operation.query.length > 0
        ? random.pick(operation.query)
        : random.pick([
            '__proto__[polluted]',
            'constructor[prototype][polluted]',
            'field.eventName',
            'foo',
            random.text(CHARACTERS, 6),
          ]);
    const value = random.chance(0.8) ? random.pick(QUERY_VALUES) : random.text(CHARACTERS, 12);
    return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  });
  return `?${pairs.join('&')}`;
}

/** The whole sequence, drawn before anything is sent: it depends on the seed and the document alone. */
function generate(random: Random, operations: Operation[], examples: Examples): FuzzRequest[] {
  return Array.from({ length: REQUESTS }, (_, index): FuzzRequest => {
    // Round-robin over the operations spreads the requests evenly; everything else is drawn.
    const operation = operations[index % operations.length] as Operation;
    const method = random.chance(0.03)
      ? random.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
      : operation.method;
    const path =
      operation.template.replace(/\{(\w+)\}/g, (_match, name: string) => pathValue(random, name, method)) +
      randomQuery(random, operation);
    const headers: Record<string, string> = {};
    for (const name of operation.headers) {
      if (random.chance(0.3))
        headers[name] = random.pick(['fuzz-key', `k-${random.int(20)}`, 'has space', 'x'.repeat(300)]);
    }
    const request: FuzzRequest = {
      index,
      operation: `${operation.method} ${operation.template}`,
      method,
      path,
      contentType: undefined,
      headers,
      kind: 'none',
    };
    const hasBody = method !== 'GET' && (method === 'DELETE' ? random.chance(0.3) : random.chance(0.9));
    if (!hasBody) return request;
    const { kind, body } = randomBody(random, examplesFor(examples, operation.method, operation.template));
    request.kind = kind;
    request.contentType = random.pick(CONTENT_TYPES);
    request.body = request.contentType === 'multipart/form-data' ? multipart(body, `fuzz${index}`) : body;
    if (operation.template === '/v1/events' && random.chance(0.3)) {
      request.kind += ', gzip';
      request.headers['content-encoding'] = 'gzip';
      request.body = gzipSync(request.body);
      if (random.chance(0.25)) {
        request.kind += ' (mutated)';
        request.body = mutate(random, request.body);
      }
    }
    return request;
  });
}

function contentTypeHeader(request: FuzzRequest): string | undefined {
  return request.contentType === 'multipart/form-data'
    ? `multipart/form-data; boundary=fuzz${request.index}`
    : request.contentType;
}

/** The body as text, when it is valid UTF-8 (so that http() can send it unchanged). */
function asText(body: Buffer): string | undefined {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? text : undefined;
}

/** Through http() when it can carry the request; otherwise as raw bytes with the same key. */
async function send(base: string, request: FuzzRequest): Promise<Outcome> {
  const contentType = contentTypeHeader(request);
  const text = request.body === undefined ? undefined : asText(request.body);
  try {
    if (
      request.headers['content-encoding'] === undefined &&
      (request.body === undefined || (contentType !== undefined && text !== undefined))
    ) {
      const answer = await http(base, request.method, request.path, {
        body: text,
        contentType,
        headers: request.headers,
      });
      return {
        request,
        status: answer.status,
        contentType: answer.headers.get('content-type') ?? '',
        text: answer.text,
      };
    }
    const headers: Record<string, string> = { ...bearer(), ...request.headers };
    if (contentType !== undefined) headers['content-type'] = contentType;
    const response = await fetch(`${base}${request.path}`, {
      method: request.method,
      headers,
      body: request.body,
    });
    return {
      request,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: await response.text(),
    };
  } catch (error) {
    // No answer at all (a reset connection) or a JSON answer that does not parse: as bad as a 5xx.
    return { request, status: 0, contentType: '', text: `request failed: ${String(error)}` };
  }
}

async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/**
 * The error answer the route owes: problem+json, except on the forwarder routes, which answer as Splunk
 * HEC ({text, code}) or Elasticsearch ({error: {type, reason}, status}) would.
 */
function isProblem(outcome: Outcome): boolean {
  if (outcome.contentType.startsWith('application/problem+json')) {
    try {
      const problem = JSON.parse(outcome.text) as { status?: unknown; code?: unknown };
      return problem.status === outcome.status && typeof problem.code === 'string';
    } catch {
      return false;
    }
  }
  // A forwarder route (not another method on its path, which is a plain 404) answers in its protocol.
  const path = outcome.request.path.split('?')[0] ?? '';
  if (path === '/services/collector' || path.startsWith('/services/collector/'))
    return isJsonWith(outcome, (body) => typeof body.text === 'string' && typeof body.code === 'number');
  if (path.endsWith('/_bulk'))
    return isJsonWith(
      outcome,
      (body) =>
        body.status === outcome.status &&
        typeof (body.error as { type?: unknown } | undefined)?.type === 'string',
    );
  return false;
}

function isJsonWith(outcome: Outcome, check: (body: Record<string, unknown>) => boolean): boolean {
  if (!outcome.contentType.startsWith('application/json')) return false;
  try {
    return check(JSON.parse(outcome.text) as Record<string, unknown>);
  } catch {
    return false;
  }
}

function describeOutcome(outcome: Outcome): string {
  const { request } = outcome;
  const body =
    request.body === undefined ? '(none)' : JSON.stringify(request.body.subarray(0, 200).toString('latin1'));
  return [
    `#${request.index} (seed ${SEED}) ${request.method} ${request.path.slice(0, 300)}`,
    `  operation ${request.operation}; content-type ${contentTypeHeader(request) ?? '(none)'}; headers ${JSON.stringify(request.headers)}`,
    `  body (${request.kind}, ${request.body?.length ?? 0} bytes), first 200: ${body}`,
    `  answer ${outcome.status} ${outcome.contentType}: ${outcome.text.slice(0, 600)}`,
  ].join('\n');
}

function statusSummary(outcomes: Outcome[]): string {
  const counts = new Map<number, number>();
  for (const outcome of outcomes) counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
}

// ---------------------------------------------------------------------------------------------------------

describe(`fuzz: ${REQUESTS} seeded requests across the API (seed ${SEED})`, () => {
  let running: RunningApp;
  let operations: Operation[];

  beforeAll(async () => {
    running = await startApp();
    const document = await http(running.url, 'GET', '/docs-json');
    expect(document.status).toBe(200);
    operations = operationsOf(document.body);
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it(
    'never answers 5xx, answers every error with problem+json, and stays ready',
    { timeout: 110_000 },
    async () => {
      const requests = generate(new Random(SEED), operations, loadExamples());

      // The generator must reach what it claims to: every operation, every content type, gzip on ingest.
      expect(new Set(requests.map((request) => request.operation)).size).toBe(operations.length);
      const typesUsed = new Set(
        requests.filter((request) => request.body).map((request) => request.contentType),
      );
      expect([...typesUsed].length).toBe(CONTENT_TYPES.length);
      expect(requests.some((request) => request.headers['content-encoding'] === 'gzip')).toBe(true);

      const started = performance.now();
      const outcomes = await runPool(requests, CONCURRENCY, (request) => send(running.url, request));
      const elapsed = Math.round(performance.now() - started);
      console.log(
        `fuzz seed ${SEED}: ${outcomes.length} requests in ${elapsed} ms; statuses ${statusSummary(outcomes)}`,
      );

      const failed = outcomes.filter((outcome) => outcome.status >= 500 || outcome.status === 0);
      const notProblems = outcomes.filter(
        (outcome) => outcome.status >= 300 && outcome.status < 500 && !isProblem(outcome),
      );
      if (failed.length > 0)
        console.log(
          `5xx or no answer (${failed.length}):\n${failed.slice(0, 5).map(describeOutcome).join('\n')}`,
        );
      if (notProblems.length > 0)
        console.log(
          `errors that are not problem+json (${notProblems.length}):\n${notProblems.slice(0, 5).map(describeOutcome).join('\n')}`,
        );
      expect(failed.map((outcome) => `#${outcome.request.index} ${outcome.status}`)).toEqual([]);
      expect(notProblems.map((outcome) => `#${outcome.request.index} ${outcome.status}`)).toEqual([]);

      const ready = await http(running.url, 'GET', '/readyz');
      expect(ready.status).toBe(200);
    },
  );
});
