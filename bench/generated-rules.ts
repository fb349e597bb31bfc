// Generated CloudTrail rules for the benchmark, in the style of public detections: lists of API calls per
// service, failed and denied calls, who made the call, a request parameter, where the call came from.
// Each rule is drawn from what the corpus really holds (its eventSource/eventName pairs and the shapes of
// their events) with a seeded generator, so the set is the same on every run over the same corpus, and
// every rule matches at least the event its conditions were taken from.
//
// A rule is kept twice: as Panther YAML text for the engine and the server, and as a plain description
// that bench/plain-evaluator.ts checks with straightforward JavaScript.

/** What a generated rule asks of an event; every field given must hold (AND). */
export interface PlainRule {
  ruleId: string;
  /** Panther match expressions read keys case-insensitively as a fallback; condition lines do not. */
  language: 'panther' | 'condition';
  eventSource?: string;
  eventNames?: string[];
  errorCode?: { kind: 'exists' } | { kind: 'equals'; value: string };
  identityTypes?: string[];
  /** A key that must be present under requestParameters. */
  requestParameter?: string;
  sourceIp?:
    | { kind: 'startsWith'; value: string }
    | { kind: 'in'; values: string[] }
    | { kind: 'notEquals'; value: string }
    /** IPv4 networks (Panther's IsIPAddressInCIDR). */
    | { kind: 'networks'; values: string[] };
  /** eventName starts with this (case-sensitive). */
  eventNamePrefix?: string;
  /** userAgent contains this: Python's `in` (a substring of a string, an element of a list, a key). */
  userAgentContains?: { value: string; ignoreCase: boolean };
  /** eventTime is a string that sorts before this one (an ordering no index covers). */
  eventTimeBefore?: string;
  /** userIdentity.type is not this one (also when it is missing). */
  identityTypeNot?: string;
}

export type RuleKind =
  | 'ApiCalls'
  | 'FailedCalls'
  | 'AccessDenied'
  | 'Identity'
  | 'RequestParameter'
  | 'SourceIp'
  | 'ServiceErrors'
  | 'NamePrefix'
  | 'UserAgent'
  | 'ThreatIntel'
  | 'Unindexed';

const KINDS: readonly RuleKind[] = [
  'ApiCalls',
  'FailedCalls',
  'AccessDenied',
  'Identity',
  'RequestParameter',
  'SourceIp',
  'ServiceErrors',
];

/**
 * The realistic mix (`mix: 'realistic'`): mostly equality on eventName and eventSource, then name
 * prefixes, user-agent substrings and address lists, and every hundredth rule one that no index covers.
 */
const REALISTIC_KINDS: readonly RuleKind[] = [
  'ApiCalls',
  'ApiCalls',
  'FailedCalls',
  'AccessDenied',
  'Identity',
  'RequestParameter',
  'SourceIp',
  'ServiceErrors',
  'NamePrefix',
  'UserAgent',
  'ThreatIntel',
];
const UNINDEXED_EVERY = 100;

export interface GeneratedRule {
  kind: RuleKind;
  description: PlainRule;
  yaml: string;
}

/** The distinct facts of some events of one API call, enough to write a rule that matches them. */
export interface EventShape {
  errorCode?: string;
  identityType?: string;
  requestParameterKeys: string[];
  sourceIp?: string;
  userAgent?: string;
}

export interface ApiCallProfile {
  eventSource: string;
  eventName: string;
  count: number;
  /** Distinct shapes, in corpus order, at most MAX_SHAPES_PER_CALL. */
  shapes: EventShape[];
}

/** What the generator learns from a corpus. */
export interface CorpusProfile {
  events: number;
  /** Sorted by source and name, so that the draw does not depend on the order of the corpus. */
  calls: ApiCallProfile[];
  /** How often each service answered each error code. */
  errorCodesBySource: Map<string, Map<string, number>>;
  /** How many events came from each source address and with each user agent (the first 100,000 seen). */
  sourceIpCounts: Map<string, number>;
  userAgentCounts: Map<string, number>;
}

const MAX_COUNTED_VALUES = 100_000;

function countValue(counts: Map<string, number>, value: string | undefined): void {
  if (value === undefined) return;
  const seen = counts.get(value);
  if (seen !== undefined) counts.set(value, seen + 1);
  else if (counts.size < MAX_COUNTED_VALUES) counts.set(value, 1);
}

const MAX_SHAPES_PER_CALL = 12;
/**
 * Detections watch the rare, telling calls (DeleteTrail, CreateAccessKey), not the background of Describe
 * and Decrypt: a call is a candidate when it is at most this share of the corpus.
 */
const WATCHED_SHARE = 0.001;
/** Keys that every path syntax (KeyPath, condition lines) can name as they are. */
const PLAIN_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;
const IDENTITY_TYPES = ['Root', 'IAMUser', 'AssumedRole'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Collects the distinct eventSource/eventName pairs of a corpus and the shapes of their events. */
export class CorpusProfiler {
  private readonly calls = new Map<string, ApiCallProfile & { seen: Set<string> }>();
  private readonly errorCodesBySource = new Map<string, Map<string, number>>();
  private readonly sourceIpCounts = new Map<string, number>();
  private readonly userAgentCounts = new Map<string, number>();
  private events = 0;

  add(event: unknown): void {
    this.events += 1;
    if (!isObject(event)) return;
    const eventSource = text(event.eventSource);
    const eventName = text(event.eventName);
    if (eventSource === undefined || eventName === undefined) return;
    const key = `${eventSource}\u0000${eventName}`;
    let call = this.calls.get(key);
    if (!call) {
      call = { eventSource, eventName, count: 0, shapes: [], seen: new Set() };
      this.calls.set(key, call);
    }
    call.count += 1;
    countValue(this.sourceIpCounts, text(event.sourceIPAddress));
    countValue(this.userAgentCounts, text(event.userAgent));
    const errorCode = text(event.errorCode);
    if (errorCode !== undefined) {
      const codes = this.errorCodesBySource.get(eventSource) ?? new Map<string, number>();
      codes.set(errorCode, (codes.get(errorCode) ?? 0) + 1);
      this.errorCodesBySource.set(eventSource, codes);
    }
    if (call.shapes.length >= MAX_SHAPES_PER_CALL) return;
    const identity = event.userIdentity;
    const parameters = event.requestParameters;
    const shape: EventShape = {
      errorCode,
      identityType: isObject(identity) ? text(identity.type) : undefined,
      requestParameterKeys: isObject(parameters)
        ? Object.keys(parameters)
            .filter((name) => PLAIN_KEY.test(name))
            .sort()
        : [],
      sourceIp: text(event.sourceIPAddress),
      userAgent: text(event.userAgent),
    };
    const signature = JSON.stringify(shape);
    if (call.seen.has(signature)) return;
    call.seen.add(signature);
    call.shapes.push(shape);
  }

  profile(): CorpusProfile {
    const calls = [...this.calls.values()]
      .map(({ eventSource, eventName, count, shapes }) => ({ eventSource, eventName, count, shapes }))
      .sort((a, b) => compare(a.eventSource, b.eventSource) || compare(a.eventName, b.eventName));
    return {
      events: this.events,
      calls,
      errorCodesBySource: this.errorCodesBySource,
      sourceIpCounts: this.sourceIpCounts,
      userAgentCounts: this.userAgentCounts,
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** mulberry32: a small seeded generator; the same seed gives the same rules. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Draw {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  integer(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('nothing to pick from');
    return items[Math.floor(this.random() * items.length)] as T;
  }

  /** Up to `count` distinct items, in the order drawn. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const chosen: T[] = [];
    while (chosen.length < count && pool.length > 0)
      chosen.push(pool.splice(this.integer(0, pool.length - 1), 1)[0] as T);
    return chosen;
  }
}

/** What a rule is built around: one real API call and one real shape of its events. */
interface Anchor {
  call: ApiCallProfile;
  shape: EventShape;
}

export const GENERATED_RULE_SEED = 0x7269706c;

/**
 * `count` rules drawn from the corpus profile. Kinds take turns so that each appears; a kind that finds
 * nothing to build on in a small corpus falls back to a list of API calls.
 */
export function generateRules(
  profile: CorpusProfile,
  count: number,
  seed = GENERATED_RULE_SEED,
  options: {
    /**
     * The share of rules that watch calls the corpus holds; the others watch calls it never makes (a
     * version suffix on each name, or on the error code), as most of a large real rule set waits for what
     * rarely happens. 1 (the default) draws nothing for it, so the set is as it always was.
     */
    watchedShare?: number;
    /** `equality` (the default): the seven kinds of the throughput benchmark; `realistic`: see REALISTIC_KINDS. */
    mix?: 'equality' | 'realistic';
  } = {},
): GeneratedRule[] {
  const watchedShare = options.watchedShare ?? 1;
  const realistic = options.mix === 'realistic';
  if (profile.calls.length === 0)
    throw new Error('the corpus holds no eventSource/eventName pairs to build rules from');
  const draw = new Draw(seed);
  const rareLimit = Math.max(1, Math.ceil(profile.events * WATCHED_SHARE));
  let watched = profile.calls.filter((call) => call.count <= rareLimit);
  if (watched.length < 10) {
    // A corpus without enough rare calls: the rarer half of them.
    const byCount = [...profile.calls].sort((a, b) => a.count - b.count);
    watched = byCount.slice(0, Math.ceil(byCount.length / 2));
  }
  const bySource = new Map<string, ApiCallProfile[]>();
  for (const call of watched)
    bySource.set(call.eventSource, [...(bySource.get(call.eventSource) ?? []), call]);
  /** Anchors among the watched calls, else among all calls. */
  const anchors = (where: (call: ApiCallProfile, shape: EventShape) => boolean): Anchor[] => {
    const among = (calls: readonly ApiCallProfile[]) =>
      calls.flatMap((call) =>
        call.shapes.filter((shape) => where(call, shape)).map((shape) => ({ call, shape })),
      );
    const found = among(watched);
    return found.length > 0 ? found : among(profile.calls);
  };
  const serviceErrorCount = (call: ApiCallProfile, code: string) =>
    profile.errorCodesBySource.get(call.eventSource)?.get(code) ?? 0;
  const pools: Record<RuleKind, Anchor[]> = {
    ApiCalls: anchors(() => true),
    FailedCalls: anchors((_, shape) => shape.errorCode !== undefined),
    AccessDenied: anchors((_, shape) => shape.errorCode === 'AccessDenied'),
    Identity: anchors((_, shape) => shape.identityType !== undefined),
    RequestParameter: anchors((_, shape) => shape.requestParameterKeys.length > 0),
    SourceIp: anchors((_, shape) => shape.sourceIp !== undefined),
    // A whole service's answers with one code: only codes that are rare across the service.
    ServiceErrors: anchors(
      (call, shape) =>
        shape.errorCode !== undefined && serviceErrorCount(call, shape.errorCode) <= 2 * rareLimit,
    ),
    NamePrefix: anchors((call) => namePrefix(call.eventName) !== undefined),
    // A user agent or an address that few events carry, so that a rule on it alone stays rare.
    UserAgent: anchors(
      (_, shape) =>
        shape.userAgent !== undefined &&
        shape.userAgent.length >= 8 &&
        (profile.userAgentCounts.get(shape.userAgent) ?? Infinity) <= rareLimit,
    ),
    ThreatIntel: anchors(
      (_, shape) =>
        shape.sourceIp !== undefined &&
        /^\d{1,3}(\.\d{1,3}){3}$/.test(shape.sourceIp) &&
        (profile.sourceIpCounts.get(shape.sourceIp) ?? Infinity) <= rareLimit,
    ),
    Unindexed: anchors(() => true),
  };
  /** The anchor's call and up to `extra` other watched calls of the same service. */
  const namesAround = (anchor: Anchor, extra: number): string[] => {
    const others = (bySource.get(anchor.call.eventSource) ?? [])
      .map((call) => call.eventName)
      .filter((name) => name !== anchor.call.eventName);
    return [anchor.call.eventName, ...draw.sample(others, draw.integer(0, extra))];
  };

  const rules: GeneratedRule[] = [];
  for (let index = 0; index < count; index++) {
    let kind = realistic
      ? index % UNINDEXED_EVERY === UNINDEXED_EVERY - 1
        ? 'Unindexed'
        : (REALISTIC_KINDS[index % REALISTIC_KINDS.length] as RuleKind)
      : (KINDS[index % KINDS.length] as RuleKind);
    if (pools[kind].length === 0) kind = 'ApiCalls';
    const anchor = draw.pick(pools[kind]);
    const service = serviceName(anchor.call.eventSource);
    const language = draw.chance(0.5) ? 'panther' : 'condition';
    const ruleId = `Bench.CloudTrail.${service}.${kind}.${String(index + 1).padStart(3, '0')}`;
    const description: PlainRule = { ruleId, language };
    switch (kind) {
      case 'ApiCalls':
        description.eventSource = anchor.call.eventSource;
        description.eventNames = namesAround(anchor, 3);
        break;
      case 'FailedCalls':
        description.eventNames = namesAround(anchor, 2);
        description.errorCode = { kind: 'exists' };
        break;
      case 'AccessDenied':
        description.eventSource = anchor.call.eventSource;
        description.eventNames = namesAround(anchor, 2);
        description.errorCode = { kind: 'equals', value: 'AccessDenied' };
        break;
      case 'Identity': {
        const identityType = anchor.shape.identityType as string;
        description.eventSource = anchor.call.eventSource;
        description.eventNames = namesAround(anchor, 2);
        description.identityTypes = [
          identityType,
          ...draw.sample(
            IDENTITY_TYPES.filter((type) => type !== identityType),
            draw.integer(0, 2),
          ),
        ];
        break;
      }
      case 'RequestParameter':
        description.eventNames = [anchor.call.eventName];
        description.requestParameter = draw.pick(anchor.shape.requestParameterKeys);
        break;
      case 'SourceIp': {
        const ip = anchor.shape.sourceIp as string;
        description.eventSource = anchor.call.eventSource;
        const variant = draw.integer(0, 2);
        const firstOctet = /^(\d{1,3}\.)\d/.exec(ip)?.[1];
        if (variant === 0 && firstOctet !== undefined)
          description.sourceIp = { kind: 'startsWith', value: firstOctet };
        else if (variant === 1 || ip === 'AWS Internal') description.sourceIp = { kind: 'in', values: [ip] };
        else description.sourceIp = { kind: 'notEquals', value: 'AWS Internal' };
        // Where a call comes from narrows the watched calls; on its own it would flag a whole service.
        description.eventNames = namesAround(anchor, 2);
        break;
      }
      case 'ServiceErrors':
        description.eventSource = anchor.call.eventSource;
        description.errorCode = { kind: 'equals', value: anchor.shape.errorCode as string };
        break;
      case 'NamePrefix':
        // PutBucket…, CreateAccess…: a family of calls, by whichever identities the anchor's was.
        description.eventNamePrefix = namePrefix(anchor.call.eventName);
        if (anchor.shape.identityType !== undefined) description.identityTypes = [anchor.shape.identityType];
        else description.errorCode = { kind: 'exists' };
        break;
      case 'UserAgent': {
        // Twelve characters of the anchor's user agent, the rarest of a few drawn: a tool's own token
        // rather than the SDK text that most agents share.
        const agent = anchor.shape.userAgent as string;
        const carriers = (part: string) => {
          let events = 0;
          for (const [text, seen] of profile.userAgentCounts) if (text.includes(part)) events += seen;
          return events;
        };
        let value = agent.slice(0, 12);
        let rarest = carriers(value);
        for (let attempt = 0; attempt < 8; attempt++) {
          const start = draw.integer(0, Math.max(0, agent.length - 12));
          const part = agent.slice(start, start + 12);
          const events = carriers(part);
          if (events < rarest) [value, rarest] = [part, events];
        }
        const ignoreCase = language === 'panther' && draw.chance(0.5);
        description.userAgentContains = { value: ignoreCase ? value.toLowerCase() : value, ignoreCase };
        break;
      }
      case 'ThreatIntel': {
        // A feed's list: the anchor's address among networks of the documentation ranges.
        const feed = Array.from(
          { length: 4 },
          () => `${draw.pick(['192.0.2', '198.51.100', '203.0.113'])}.${draw.integer(0, 255)}`,
        );
        const address = anchor.shape.sourceIp as string;
        description.sourceIp =
          language === 'panther'
            ? { kind: 'networks', values: [`${address}/32`, ...feed.map((item) => `${item}/32`)] }
            : { kind: 'in', values: [address, ...feed] };
        break;
      }
      case 'Unindexed':
        description.eventTimeBefore = '2001-01-01';
        description.identityTypeNot = 'AWSService';
        break;
    }
    if (watchedShare < 1 && !draw.chance(watchedShare)) watchAbsentCalls(description);
    rules.push({ kind, description, yaml: renderRule(kind, description, anchor, draw) });
  }
  return rules;
}

/** Calls and error codes no CloudTrail event carries: what a rule waiting for the rare looks like. */
function watchAbsentCalls(rule: PlainRule): void {
  if (rule.eventNames !== undefined) rule.eventNames = rule.eventNames.map((name) => `${name}V9Preview`);
  else if (rule.errorCode?.kind === 'equals')
    rule.errorCode = { kind: 'equals', value: `${rule.errorCode.value}V9Preview` };
  else if (rule.eventNamePrefix !== undefined) rule.eventNamePrefix = `${rule.eventNamePrefix}V9`;
  else if (rule.userAgentContains !== undefined)
    rule.userAgentContains = { ...rule.userAgentContains, value: `${rule.userAgentContains.value}v9preview` };
  else if (rule.sourceIp?.kind === 'networks' || rule.sourceIp?.kind === 'in')
    rule.sourceIp = { ...rule.sourceIp, values: rule.sourceIp.values.slice(1) };
}

/** The first two words of a call's name (`PutBucketPolicy` → `PutBucket`), when it has three or more. */
function namePrefix(eventName: string): string | undefined {
  const words = eventName.match(/[A-Z][a-z0-9]*/g) ?? [];
  return words.length >= 3 && eventName.startsWith(words.join('')) ? `${words[0]}${words[1]}` : undefined;
}

/** `iam.amazonaws.com` → `Iam`; `ec2.amazonaws.com` → `Ec2`. */
function serviceName(eventSource: string): string {
  const first = eventSource.split('.')[0] ?? 'Aws';
  const letters = first.replace(/[^A-Za-z0-9]/g, '');
  return letters === '' ? 'Aws' : letters.charAt(0).toUpperCase() + letters.slice(1);
}

const SEVERITY_BY_KIND: Record<RuleKind, string> = {
  ApiCalls: 'Info',
  FailedCalls: 'Low',
  AccessDenied: 'Medium',
  Identity: 'Medium',
  RequestParameter: 'Low',
  SourceIp: 'Medium',
  ServiceErrors: 'Low',
  NamePrefix: 'Low',
  UserAgent: 'High',
  ThreatIntel: 'High',
  Unindexed: 'Medium',
};

const MITRE_BY_KIND: Record<RuleKind, string> = {
  ApiCalls: 'TA0007:T1526',
  FailedCalls: 'TA0007:T1580',
  AccessDenied: 'TA0007:T1526',
  Identity: 'TA0004:T1078',
  RequestParameter: 'TA0005:T1578',
  SourceIp: 'TA0001:T1078',
  ServiceErrors: 'TA0040:T1496',
  NamePrefix: 'TA0005:T1562',
  UserAgent: 'TA0043:T1595',
  ThreatIntel: 'TA0011:T1071',
  Unindexed: 'TA0005:T1070',
};

/** A YAML double-quoted scalar; JSON's escapes are YAML's. */
const quoted = (value: string) => JSON.stringify(value);
/** A condition-language string: only `\"` and `\\` are escapes there. */
const conditionString = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const conditionList = (values: readonly string[]) => `[${values.map(conditionString).join(', ')}]`;
/** A condition line as a YAML single-quoted scalar, so that its double quotes stay as written. */
const yamlLine = (line: string) => `  - '${line.replace(/'/g, "''")}'`;

function pantherExpressions(rule: PlainRule, draw: Draw): string[] {
  const lines: string[] = [];
  const keyValue = (key: string, condition: string, value?: string) => {
    lines.push(`  - ${key}`, `    Condition: ${condition}`);
    if (value !== undefined) lines.push(`    Value: ${quoted(value)}`);
  };
  const keyValues = (key: string, condition: string, values: readonly string[]) => {
    lines.push(
      `  - ${key}`,
      `    Condition: ${condition}`,
      '    Values:',
      ...values.map((value) => `      - ${quoted(value)}`),
    );
  };
  if (rule.eventSource !== undefined) keyValue('Key: eventSource', 'Equals', rule.eventSource);
  if (rule.eventNames !== undefined) {
    if (rule.eventNames.length === 1 && draw.chance(0.5))
      keyValue('Key: eventName', 'Equals', rule.eventNames[0]);
    else keyValues('Key: eventName', 'IsIn', rule.eventNames);
  }
  if (rule.errorCode?.kind === 'exists') keyValue('Key: errorCode', 'Exists');
  if (rule.errorCode?.kind === 'equals') keyValue('Key: errorCode', 'Equals', rule.errorCode.value);
  if (rule.identityTypes !== undefined) {
    const key = draw.chance(0.5) ? 'DeepKey: [userIdentity, type]' : 'KeyPath: userIdentity.type';
    keyValues(key, 'IsIn', rule.identityTypes);
  }
  if (rule.requestParameter !== undefined)
    keyValue(`KeyPath: requestParameters.${rule.requestParameter}`, 'Exists');
  const ip = rule.sourceIp;
  if (ip?.kind === 'startsWith') keyValue('Key: sourceIPAddress', 'StartsWith', ip.value);
  if (ip?.kind === 'in') keyValues('Key: sourceIPAddress', 'IsIn', ip.values);
  if (ip?.kind === 'notEquals') keyValue('Key: sourceIPAddress', 'DoesNotEqual', ip.value);
  if (ip?.kind === 'networks') keyValues('Key: sourceIPAddress', 'IsIPAddressInCIDR', ip.values);
  if (rule.eventNamePrefix !== undefined) keyValue('Key: eventName', 'StartsWith', rule.eventNamePrefix);
  const agent = rule.userAgentContains;
  if (agent !== undefined)
    keyValue('Key: userAgent', agent.ignoreCase ? 'IContains' : 'Contains', agent.value);
  if (rule.eventTimeBefore !== undefined) keyValue('Key: eventTime', 'IsLessThan', rule.eventTimeBefore);
  if (rule.identityTypeNot !== undefined)
    keyValue('KeyPath: userIdentity.type', 'DoesNotEqual', rule.identityTypeNot);
  return lines;
}

function conditionLines(rule: PlainRule, draw: Draw): string[] {
  const clauses: string[] = [];
  if (rule.eventSource !== undefined) clauses.push(`eventSource eq ${conditionString(rule.eventSource)}`);
  if (rule.eventNames !== undefined) {
    const [only] = rule.eventNames;
    clauses.push(
      rule.eventNames.length === 1 && only !== undefined
        ? `eventName eq ${conditionString(only)}`
        : `eventName in ${conditionList(rule.eventNames)}`,
    );
  }
  if (rule.errorCode?.kind === 'exists') clauses.push('errorCode exists');
  if (rule.errorCode?.kind === 'equals')
    clauses.push(`errorCode eq ${conditionString(rule.errorCode.value)}`);
  if (rule.identityTypes !== undefined)
    clauses.push(`userIdentity.type in ${conditionList(rule.identityTypes)}`);
  if (rule.requestParameter !== undefined) clauses.push(`requestParameters.${rule.requestParameter} exists`);
  const ip = rule.sourceIp;
  if (ip?.kind === 'startsWith') clauses.push(`sourceIPAddress startswith ${conditionString(ip.value)}`);
  if (ip?.kind === 'in') clauses.push(`sourceIPAddress in ${conditionList(ip.values)}`);
  if (ip?.kind === 'notEquals') clauses.push(`sourceIPAddress ne ${conditionString(ip.value)}`);
  if (ip?.kind === 'networks')
    throw new Error('condition lines have no CIDR test: the generator writes `in`');
  if (rule.eventNamePrefix !== undefined)
    clauses.push(`eventName startswith ${conditionString(rule.eventNamePrefix)}`);
  if (rule.userAgentContains !== undefined)
    clauses.push(`userAgent contains ${conditionString(rule.userAgentContains.value)}`);
  if (rule.eventTimeBefore !== undefined)
    clauses.push(`eventTime lt ${conditionString(rule.eventTimeBefore)}`);
  if (rule.identityTypeNot !== undefined)
    clauses.push(`userIdentity.type ne ${conditionString(rule.identityTypeNot)}`);
  // Catalogue rules write one clause per line, or join two with `and`; both forms are exercised.
  if (clauses.length >= 2 && draw.chance(0.4)) {
    const [first, second, ...rest] = clauses;
    return [`${first ?? ''} and ${second ?? ''}`, ...rest].map(yamlLine);
  }
  return clauses.map(yamlLine);
}

/** An event that the rule must flag: the anchor's own facts, made to satisfy every clause. */
function matchingLog(rule: PlainRule, anchor: Anchor): Record<string, unknown> {
  const log: Record<string, unknown> = {
    p_log_type: 'AWS.CloudTrail',
    eventVersion: '1.08',
    eventTime: '2025-01-01T00:00:00Z',
    eventSource: rule.eventSource ?? anchor.call.eventSource,
    eventName: rule.eventNames?.[0] ?? anchor.call.eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.10',
    userIdentity: {
      type: rule.identityTypes?.[0] ?? 'IAMUser',
      accountId: '123456789012',
      userName: 'bench-user',
    },
    recipientAccountId: '123456789012',
  };
  if (rule.errorCode?.kind === 'exists') log.errorCode = anchor.shape.errorCode ?? 'AccessDenied';
  if (rule.errorCode?.kind === 'equals') log.errorCode = rule.errorCode.value;
  if (rule.requestParameter !== undefined) log.requestParameters = { [rule.requestParameter]: 'bench-value' };
  const ip = rule.sourceIp;
  if (ip?.kind === 'startsWith') log.sourceIPAddress = `${ip.value}0.0.1`;
  if (ip?.kind === 'in') log.sourceIPAddress = ip.values[0];
  if (ip?.kind === 'networks') log.sourceIPAddress = ip.values[0]?.split('/')[0];
  const prefix = rule.eventNamePrefix;
  if (prefix !== undefined && !String(log.eventName).startsWith(prefix)) log.eventName = `${prefix}Things`;
  if (rule.userAgentContains !== undefined) log.userAgent = `bench ${rule.userAgentContains.value} agent`;
  if (rule.eventTimeBefore !== undefined) log.eventTime = '2000-06-01T00:00:00Z';
  return log;
}

/** The same event with the first clause broken, so that the rule must not flag it. */
function nonMatchingLog(rule: PlainRule, anchor: Anchor): Record<string, unknown> {
  const log = matchingLog(rule, anchor);
  if (rule.eventSource !== undefined) log.eventSource = 'bench-unused.amazonaws.com';
  else if (rule.eventNames !== undefined) log.eventName = 'BenchNeverCalled';
  else if (rule.errorCode !== undefined) delete log.errorCode;
  else if (rule.eventNamePrefix !== undefined) log.eventName = 'BenchNeverCalled';
  else if (rule.userAgentContains !== undefined) log.userAgent = 'bench-agent';
  else if (rule.eventTimeBefore !== undefined) log.eventTime = '2025-01-01T00:00:00Z';
  else log.sourceIPAddress = 'AWS Internal';
  return log;
}

const TITLES: Record<RuleKind, string> = {
  ApiCalls: '{eventName} called on {eventSource} by {p_udm.actor_user}',
  FailedCalls: '{eventName} failed with {errorCode} for {p_udm.actor_user}',
  AccessDenied: '{eventName} denied to {p_udm.actor_user}',
  Identity: '{userIdentity.type} {p_udm.actor_user} called {eventName}',
  RequestParameter: '{eventName} by {p_udm.actor_user} set a watched request parameter',
  SourceIp: '{eventName} from {sourceIPAddress}',
  ServiceErrors: '{eventSource} answered {errorCode} to {p_udm.actor_user}',
  NamePrefix: '{eventName} by {p_udm.actor_user}',
  UserAgent: '{eventName} from a watched user agent: {userAgent}',
  ThreatIntel: '{eventName} from a listed address: {sourceIPAddress}',
  Unindexed: '{eventName} with a clock far in the past: {eventTime}',
};

const DESCRIPTIONS: Record<RuleKind, string> = {
  ApiCalls: 'Watched API calls of one service.',
  FailedCalls: 'Watched API calls that failed.',
  AccessDenied: 'Watched API calls denied for lack of permission.',
  Identity: 'Watched API calls made by a given kind of identity.',
  RequestParameter: 'An API call that carries a watched request parameter.',
  SourceIp: 'API calls of one service from a watched network location.',
  ServiceErrors: 'One error code returned by one service.',
  NamePrefix: 'A family of API calls (a name prefix) by watched identities.',
  UserAgent: 'Any API call from a watched user agent.',
  ThreatIntel: 'Any API call from an address on a threat list.',
  Unindexed: 'An event dated before 2001, not by an AWS service.',
};

function renderRule(kind: RuleKind, rule: PlainRule, anchor: Anchor, draw: Draw): string {
  const detection =
    rule.language === 'panther'
      ? ['Detection:', ...pantherExpressions(rule, draw)]
      : ['Condition:', ...conditionLines(rule, draw)];
  const test = (name: string, expected: boolean, log: Record<string, unknown>) => [
    `  - Name: ${quoted(name)}`,
    `    ExpectedResult: ${String(expected)}`,
    `    Log: ${JSON.stringify(log)}`,
  ];
  return [
    '# Generated by bench/generated-rules.ts from the benchmark corpus; not a rule to deploy.',
    'AnalysisType: rule',
    `RuleID: ${quoted(rule.ruleId)}`,
    `DisplayName: ${quoted(`Bench ${kind} on ${anchor.call.eventSource}`)}`,
    'Enabled: true',
    'LogTypes:',
    '  - AWS.CloudTrail',
    `Tags: [AWS, CloudTrail, Benchmark, ${kind}]`,
    'Reports:',
    '  MITRE ATT&CK:',
    `    - ${MITRE_BY_KIND[kind]}`,
    `Severity: ${SEVERITY_BY_KIND[kind]}`,
    `Description: ${quoted(DESCRIPTIONS[kind])}`,
    'DedupPeriodMinutes: 60',
    ...detection,
    `AlertTitle: ${quoted(TITLES[kind])}`,
    'AlertContext:',
    '  - { KeyName: eventName, KeyValue: { Key: eventName } }',
    '  - { KeyName: sourceIPAddress, KeyValue: { Key: sourceIPAddress } }',
    '  - { KeyName: actor, KeyValue: { KeyPath: p_udm.actor_user } }',
    'Tests:',
    ...test('matches the call it watches', true, matchingLog(rule, anchor)),
    ...test('ignores other calls', false, nonMatchingLog(rule, anchor)),
    '',
  ].join('\n');
}
