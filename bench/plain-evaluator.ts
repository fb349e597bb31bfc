// An evaluator of the generated rules that shares nothing with src/engine: it reads each rule's plain
// description (bench/generated-rules.ts) and checks JSON.parse'd events with straightforward JavaScript.
// The benchmark compares its hits with the engine's, so a fast engine that gets an answer wrong fails.
import type { PlainRule } from './generated-rules.js';

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A key of an object, `undefined` when absent or when `value` is not an object. Panther reads events as
 * case-insensitive dictionaries: when the key is not there as written, the first key equal to it
 * ignoring case is used. The condition language reads keys exactly.
 */
function lookup(value: unknown, key: string, ignoreCase: boolean): unknown {
  if (!isRecord(value)) return undefined;
  if (Object.prototype.hasOwnProperty.call(value, key)) return value[key];
  if (!ignoreCase) return undefined;
  const wanted = key.toLowerCase();
  const found = Object.keys(value).find((candidate) => candidate.toLowerCase() === wanted);
  return found === undefined ? undefined : value[found];
}

/** Whether the event satisfies every clause of the rule. */
export function plainMatches(rule: PlainRule, event: unknown): boolean {
  const ignoreCase = rule.language === 'panther';
  const field = (...path: string[]) =>
    path.reduce<unknown>((value, key) => lookup(value, key, ignoreCase), event);
  const isOneOf = (value: unknown, list: readonly string[]) =>
    typeof value === 'string' && list.includes(value);

  if (rule.eventSource !== undefined && field('eventSource') !== rule.eventSource) return false;
  if (rule.eventNames !== undefined && !isOneOf(field('eventName'), rule.eventNames)) return false;
  if (rule.errorCode !== undefined) {
    const errorCode = field('errorCode');
    // Exists: the key is there, whatever its value (null included).
    if (rule.errorCode.kind === 'exists' && errorCode === undefined) return false;
    if (rule.errorCode.kind === 'equals' && errorCode !== rule.errorCode.value) return false;
  }
  if (rule.identityTypes !== undefined && !isOneOf(field('userIdentity', 'type'), rule.identityTypes))
    return false;
  if (rule.requestParameter !== undefined && field('requestParameters', rule.requestParameter) === undefined)
    return false;
  const ip = rule.sourceIp;
  if (ip !== undefined) {
    const address = field('sourceIPAddress');
    if (ip.kind === 'startsWith' && !(typeof address === 'string' && address.startsWith(ip.value)))
      return false;
    if (ip.kind === 'in' && !isOneOf(address, ip.values)) return false;
    // DoesNotEqual and `ne` hold when the field is missing.
    if (ip.kind === 'notEquals' && address === ip.value) return false;
    if (ip.kind === 'networks' && !ip.values.some((network) => inIpv4Network(address, network))) return false;
  }
  const name = field('eventName');
  if (
    rule.eventNamePrefix !== undefined &&
    !(typeof name === 'string' && name.startsWith(rule.eventNamePrefix))
  )
    return false;
  if (rule.userAgentContains !== undefined && !pythonIn(field('userAgent'), rule.userAgentContains))
    return false;
  if (rule.eventTimeBefore !== undefined) {
    const time = field('eventTime');
    if (!(typeof time === 'string' && time < rule.eventTimeBefore)) return false;
  }
  if (rule.identityTypeNot !== undefined && field('userIdentity', 'type') === rule.identityTypeNot)
    return false;
  return true;
}

/** Python's `needle in value`: a substring of a string, an element of a list, a key of a dict. */
function pythonIn(
  value: unknown,
  { value: needle, ignoreCase }: { value: string; ignoreCase: boolean },
): boolean {
  const fold = (item: unknown) => (ignoreCase && typeof item === 'string' ? item.toLowerCase() : item);
  if (typeof value === 'string') return (fold(value) as string).includes(needle);
  if (Array.isArray(value)) return value.some((item) => fold(item) === needle);
  if (isRecord(value)) return Object.prototype.hasOwnProperty.call(value, needle);
  return false;
}

/** Whether a dotted IPv4 address lies in `a.b.c.d/n`; anything else is in no IPv4 network. */
function inIpv4Network(address: unknown, network: string): boolean {
  const toNumber = (text: string): number | undefined => {
    const parts = text.split('.');
    if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) < 256))
      return undefined;
    return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
  };
  const [base = '', bits = '32'] = network.split('/');
  const value = typeof address === 'string' ? toNumber(address) : undefined;
  const start = toNumber(base);
  if (value === undefined || start === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(value / size) === Math.floor(start / size);
}

/** For each rule, the indexes of the events it flags, in order. */
export class PlainEvaluator {
  readonly hits = new Map<string, number[]>();

  constructor(private readonly rules: readonly PlainRule[]) {
    for (const rule of rules) this.hits.set(rule.ruleId, []);
  }

  add(index: number, event: unknown): void {
    for (const rule of this.rules) if (plainMatches(rule, event)) this.hits.get(rule.ruleId)?.push(index);
  }
}
