// The rule index: which rules of a log type an event can match, found from the event's values rather
// than by asking every rule. Each rule states requirements (formats/rule-format.ts): values, text,
// networks, presence, or one of several. A rule's most selective requirements (worthCounting: the least
// shared, a short prefix or a wide network weighed as the many values it stands for, breadthOf) are filed
// under the field they read, in the structure each test needs (a map of values, tries of prefixes and
// suffixes, sampled windows for substrings, a tree of networks), so that each field is read, and folded
// to lower case, once per event. A rule is a candidate when all of its counted requirements are met
// (counted per event), or when none is counted. The cost of an event then follows what it can match,
// not the number of rules.
import { foldKey, ownKeyIgnoringCase, type FoldedKey } from '../paths.js';
import type { KeyRequirement, Requirement } from '../formats/rule-format.js';
import { parseCidr } from '../ip.js';
import { getOwn, hasOwn, isPlainObject } from '../values.js';
import { NetworkTree } from './network-tree.js';
import { AffixTable, SubstringMatcher } from './text-patterns.js';

/** What the index needs of a rule: its requirements, and how its detection finds keys. */
export interface IndexedRuleFacts {
  readonly requirements: readonly Requirement[];
  readonly keysIgnoreCase: boolean;
}

export interface RuleIndexSummary {
  rules: number;
  /** Rules with at least one requirement: those some events rule out. */
  indexed: number;
  /** The fields requirements are filed under, the most used first. */
  keys: string[];
}

type Found = (ids: readonly number[]) => void;

/** Every requirement on one field's value, by the test it needs. */
class FieldRequirements {
  uses = 0;
  private equals?: Map<string, number[]>;
  private lowerEquals?: Map<string, number[]>;
  private prefixes?: AffixTable;
  private lowerPrefixes?: AffixTable;
  private suffixes?: AffixTable;
  private lowerSuffixes?: AffixTable;
  private substrings?: SubstringMatcher;
  private lowerSubstrings?: SubstringMatcher;
  private networks?: NetworkTree;
  private present?: number[];
  /** Substring requirements that lists and objects pass untested. */
  private listsAndObjects?: number[];
  private foldsCase = false;
  /** Whether a test here is more than one map lookup (prefixes, substrings, networks, folded values). */
  private textTests = false;
  /**
   * What the text tests found for values met before: most fields that rules test as text (user agents,
   * names) take few distinct values, each far cheaper to look up than to scan again.
   */
  private remembered: Map<string, readonly (readonly number[])[]> | undefined = new Map();
  private rememberedLookups = 0;
  private rememberedHits = 0;

  constructor(readonly key: string) {}

  /** Files one requirement under `id`; false when it cannot be (a network that does not parse). */
  add(requirement: KeyRequirement, id: number): boolean {
    this.uses += 1;
    if ('values' in requirement) {
      for (const value of requirement.values) push((this.equals ??= new Map<string, number[]>()), value, id);
      return true;
    }
    if ('present' in requirement) {
      (this.present ??= []).push(id);
      return true;
    }
    this.textTests = true;
    if ('networks' in requirement) {
      const tree = (this.networks ??= new NetworkTree());
      return requirement.networks.every((network) => tree.add(network, id));
    }
    const lower = requirement.ignoreCase;
    if (lower) this.foldsCase = true;
    if (requirement.listsAndObjectsPass) (this.listsAndObjects ??= []).push(id);
    for (const pattern of requirement.patterns) {
      switch (requirement.text) {
        case 'equals':
          push(
            lower
              ? (this.lowerEquals ??= new Map<string, number[]>())
              : (this.equals ??= new Map<string, number[]>()),
            pattern,
            id,
          );
          break;
        case 'prefix':
          (lower
            ? (this.lowerPrefixes ??= new AffixTable('start'))
            : (this.prefixes ??= new AffixTable('start'))
          ).add(pattern, id);
          break;
        case 'suffix':
          (lower
            ? (this.lowerSuffixes ??= new AffixTable('end'))
            : (this.suffixes ??= new AffixTable('end'))
          ).add(pattern, id);
          break;
        case 'substring':
          (lower
            ? (this.lowerSubstrings ??= new SubstringMatcher())
            : (this.substrings ??= new SubstringMatcher())
          ).add(pattern, id);
          break;
      }
    }
    return true;
  }

  /** Reports the requirements the field's value meets (the field is there). */
  visit(value: unknown, found: Found): void {
    if (this.present) found(this.present);
    if (typeof value !== 'string') {
      if (this.listsAndObjects && typeof value === 'object' && value !== null) found(this.listsAndObjects);
      return;
    }
    if (!this.textTests) {
      const exact = this.equals?.get(value);
      if (exact) found(exact);
      return;
    }
    // What a value met is remembered whole, equality included: one lookup of the value, not two.
    if (this.remembered) {
      const known = this.remembered.get(value);
      this.keepRemembering(known !== undefined);
      if (known) {
        for (const ids of known) found(ids);
        return;
      }
    }
    const met: (readonly number[])[] = [];
    const collect: Found = (ids) => met.push(ids);
    const exact = this.equals?.get(value);
    if (exact) collect(exact);
    this.prefixes?.match(value, collect);
    this.suffixes?.match(value, collect);
    this.substrings?.match(value, collect);
    this.networks?.match(value, collect);
    if (this.foldsCase) {
      const lower = value.toLowerCase();
      const folded = this.lowerEquals?.get(lower);
      if (folded) collect(folded);
      this.lowerPrefixes?.match(lower, collect);
      this.lowerSuffixes?.match(lower, collect);
      this.lowerSubstrings?.match(lower, collect);
    }
    for (const ids of met) found(ids);
    if (this.remembered) {
      if (this.remembered.size >= REMEMBERED_VALUES) this.remembered.clear();
      this.remembered.set(value, met);
    }
  }

  /**
   * After every REMEMBERED_VALUES lookups, remembering stops for good if fewer than half of them were
   * values met before: a field with a value per event (an address, a request id) would only pay for it.
   */
  private keepRemembering(hit: boolean): void {
    if (hit) this.rememberedHits += 1;
    if (++this.rememberedLookups < REMEMBERED_VALUES) return;
    if (this.rememberedHits * 2 < this.rememberedLookups) this.remembered = undefined;
    this.rememberedLookups = 0;
    this.rememberedHits = 0;
  }
}

/** Values whose text tests are remembered per field; the memory is emptied when it is full. */
const REMEMBERED_VALUES = 4096;

/**
 * The fields requirements read, as a tree of keys, so that a value is read once for all the fields
 * under it and once for both ways of finding keys. A detection that finds keys ignoring case (Panther's)
 * reads a key as written when it is there, and otherwise the first key equal to it ignoring case, and
 * does so at every step: its requirements apply to a value found as written (`field`, with those of
 * every detection) and to one found ignoring case (`foldedField`, its own alone), below which only
 * keys found ignoring case lead. A node with many keys below it walks the object's own keys instead of
 * looking each of its keys up: a CloudTrail `requestParameters` has a handful of keys, while rules may
 * name hundreds.
 */
class KeyTree {
  readonly children = new Map<string, KeyTree>();
  /** The same children, for walking them without an iterator. */
  private readonly childList: KeyTree[] = [];
  /** The children by their lower-cased key, and the lengths those keys have. */
  private readonly folded = new Map<string, KeyTree[]>();
  private readonly foldedLengths = new Set<number>();
  /**
   * Whether every key below is plain ASCII once lower-cased: only then can a key of another length be
   * skipped (lower-casing changes a length only through İ, whose lower case is not ASCII).
   */
  private lengthsDecide = true;
  private readonly foldedKey: FoldedKey;
  /** Whether a requirement here or below finds keys ignoring case. */
  ignoresCase = false;
  /** Requirements on the value found as written, and on the value found only ignoring case. */
  field: FieldRequirements | undefined;
  foldedField: FieldRequirements | undefined;
  /** The epoch in which this node's value was found, so that a key found as written is not sought again. */
  private seen = 0;

  constructor(readonly key: string) {
    this.foldedKey = foldKey(key);
  }

  child(key: string): KeyTree {
    let child = this.children.get(key);
    if (!child) {
      child = new KeyTree(key);
      this.children.set(key, child);
      this.childList.push(child);
      const lower = key.toLowerCase();
      const list = this.folded.get(lower);
      if (list) list.push(child);
      else this.folded.set(lower, [child]);
      this.foldedLengths.add(key.length);
      if (!child.foldedKey.ascii) this.lengthsDecide = false;
    }
    return child;
  }

  /** Forgets every epoch (when the index's epoch counter starts again). */
  forget(): void {
    this.seen = 0;
    for (const child of this.children.values()) child.forget();
  }

  /**
   * Reports what the value and the values under it meet; `foldedOnly` when the value was reached
   * through a key found ignoring case.
   */
  visit(value: unknown, found: Found, epoch: number, foldedOnly: boolean): void {
    (foldedOnly ? this.foldedField : this.field)?.visit(value, found);
    const children = this.childList;
    if (children.length === 0 || !isPlainObject(value)) return;
    if (children.length <= LOOKED_UP_KEYS) {
      for (let index = 0; index < children.length; index++) {
        const child = children[index] as KeyTree;
        const below = getOwn(value, child.key);
        if (below !== undefined) child.visit(below, found, epoch, foldedOnly);
        else if (child.ignoresCase) {
          const key = ownKeyIgnoringCase(value, child.foldedKey);
          if (key !== undefined) child.visit(value[key], found, epoch, true);
        }
      }
      return;
    }
    for (const key in value) {
      if (!hasOwn(value, key)) continue;
      const child = this.children.get(key);
      if (child === undefined) continue;
      child.seen = epoch;
      child.visit(value[key], found, epoch, foldedOnly);
    }
    if (!this.ignoresCase) return;
    for (const key in value) {
      if (!hasOwn(value, key) || (this.lengthsDecide && !this.foldedLengths.has(key.length))) continue;
      for (const child of this.folded.get(key.toLowerCase()) ?? []) {
        if (child.seen === epoch || !child.ignoresCase) continue;
        child.seen = epoch;
        child.visit(value[key], found, epoch, true);
      }
    }
  }
}

/** Up to this many keys under a node, each is looked up; past it, the object's own keys are walked. */
const LOOKED_UP_KEYS = 8;

/**
 * Where a requirement is filed, one entry per value or pattern (for a network or presence requirement,
 * one for its field): how many requirements share an entry is how long the list an event meeting it
 * walks.
 */
function entriesOf(requirement: Requirement, ignoreCase: boolean): string[] {
  if ('anyOf' in requirement) return requirement.anyOf.flatMap((member) => entriesOf(member, ignoreCase));
  const place = `${ignoreCase ? 'i' : 'e'}\u0000${(requirement.path ?? [requirement.key]).join('\u0000')}`;
  if ('values' in requirement) return [...requirement.values].map((value) => `${place}\u0000=${value}`);
  if ('text' in requirement)
    return requirement.patterns.map((pattern) => `${place}\u0000${requirement.text}\u0000${pattern}`);
  return [`${place}\u0000${'networks' in requirement ? 'networks' : 'present'}`];
}

/**
 * How many values of a field a requirement's widest entry stands for, against one for a value named in
 * full: a short prefix or substring (`192.`, `10.`) or a wide network is met by far more events than a
 * name is, whatever the number of rules sharing it. Each character of a pattern shorter than
 * SELECTIVE_PATTERN doubles it, as does each 4 bits a network leaves open.
 */
function breadthOf(requirement: Requirement): number {
  let breadth = 1;
  if ('anyOf' in requirement)
    for (const member of requirement.anyOf) breadth = Math.max(breadth, breadthOf(member));
  else if ('text' in requirement && requirement.text !== 'equals')
    for (const pattern of requirement.patterns)
      breadth = Math.max(breadth, 2 ** (SELECTIVE_PATTERN - pattern.length));
  else if ('networks' in requirement)
    for (const network of requirement.networks) breadth = Math.max(breadth, 2 ** (openBits(network) / 4));
  return breadth;
}

/** Patterns this long or longer are taken to be as selective as a value named in full. */
const SELECTIVE_PATTERN = 8;

/** The bits a network in CIDR notation leaves open (0 for an address alone, or for no network). */
function openBits(cidr: string): number {
  const network = parseCidr(cidr);
  return network === undefined ? 0 : (network.version === 6 ? 128 : 32) - network.prefix;
}

/** Past this many requirements sharing its busiest entry, a rule's requirement is joined by another. */
const CROWDED_ENTRY = 16;
/** A requirement joins only if shared by at most this many times as many rules as the one before it. */
const JOINED_AT_MOST = 2;
/** At most this many requirements of a rule are counted. */
const COUNTED_PER_RULE = 3;

/**
 * The requirements of a rule worth counting. Every requirement counted costs each event that meets it a
 * step, and `eventSource` = ec2 or `userIdentity.type` = IAMUser is met by most events and shared by
 * hundreds of rules; the detection checks every requirement anyway. So a rule is filed under its least
 * shared requirement, joined by the next least shared while the last one's busiest entry is crowded
 * (two crowded requirements both met are rarer than either) and the next is not far more crowded still.
 * Presence is never counted: eventTime is in every event, and a rule that requires only that a field
 * be there is cheaper to evaluate on each event than to count, sort and merge on each.
 */
function worthCounting(
  requirements: readonly Requirement[],
  sharing: (requirement: Requirement) => number,
): Requirement[] {
  const onlyPresence = (requirement: Requirement) =>
    ('anyOf' in requirement ? requirement.anyOf : [requirement]).every((member) => 'present' in member);
  const ranked = requirements
    .filter((requirement) => !onlyPresence(requirement))
    .map((requirement) => ({ requirement, shared: sharing(requirement) }))
    .sort((a, b) => a.shared - b.shared);
  const counted: Requirement[] = [];
  let last = 0;
  for (const { requirement, shared } of ranked) {
    // A far more crowded requirement would cost the events that meet it more than it saves.
    if (counted.length > 0 && shared > JOINED_AT_MOST * last) break;
    counted.push(requirement);
    last = shared;
    if (shared <= CROWDED_ENTRY || counted.length >= COUNTED_PER_RULE) break;
  }
  return counted;
}

/** Sorts rule positions in place: by insertion when few (as nearly always), natively when many. */
function sortPositions(positions: number[]): void {
  if (positions.length > 64) {
    const sorted = Int32Array.from(positions).sort();
    for (let index = 0; index < sorted.length; index++) positions[index] = sorted[index] as number;
    return;
  }
  for (let index = 1; index < positions.length; index++) {
    const position = positions[index] as number;
    let at = index - 1;
    while (at >= 0 && (positions[at] as number) > position) {
      positions[at + 1] = positions[at] as number;
      at -= 1;
    }
    positions[at + 1] = position;
  }
}

function push(map: Map<string, number[]>, value: string, id: number): void {
  const ids = map.get(value);
  if (ids) ids.push(id);
  else map.set(value, [id]);
}

export class RuleIndex<Rule> {
  /** The event's keys that requirements read. */
  private readonly keys = new KeyTree('');
  private readonly fields: FieldRequirements[];
  /** Per requirement: the position of its rule (-1: one that could not be filed, never counted). */
  private readonly ruleOf: number[] = [];
  /** Per rule: how many requirements it has (0: it is evaluated on every event). */
  private readonly needed: Uint16Array;
  /** Positions of the rules with no requirement, in order, and the rules themselves. */
  private readonly unindexed: number[] = [];
  private readonly unindexedRules: readonly Rule[];
  // Per-event counting, reset by moving to the next epoch instead of clearing the arrays.
  private epoch = 0;
  private readonly requirementEpoch: Uint32Array;
  private readonly ruleEpoch: Uint32Array;
  private readonly met: Uint16Array;
  private found: number[] = [];
  private readonly onFound: Found = (ids) => this.meet(ids);

  constructor(
    readonly all: readonly Rule[],
    factsOf: (rule: Rule) => IndexedRuleFacts,
  ) {
    this.needed = new Uint16Array(all.length);
    const fieldList: FieldRequirements[] = [];
    /** Files the requirement where it reads; false when it cannot be filed. */
    const file = (requirement: KeyRequirement, ignoreCase: boolean, id: number): boolean => {
      let node = this.keys;
      if (ignoreCase) node.ignoresCase = true;
      for (const key of requirement.path ?? [requirement.key]) {
        node = node.child(key);
        if (ignoreCase) node.ignoresCase = true;
      }
      if (!node.field) fieldList.push((node.field = new FieldRequirements(requirement.key)));
      if (!node.field.add(requirement, id)) return false;
      if (!ignoreCase) return true;
      node.foldedField ??= new FieldRequirements(requirement.key);
      return node.foldedField.add(requirement, id);
    };
    const facts = all.map(factsOf);
    // Each rule's requirements by the entries they are filed under, worked out once.
    const entries = facts.map(
      ({ requirements, keysIgnoreCase }) =>
        new Map(requirements.map((requirement) => [requirement, entriesOf(requirement, keysIgnoreCase)])),
    );
    const shares = new Map<string, number>();
    for (const filed of entries)
      for (const ruleEntries of filed.values())
        for (const entry of ruleEntries) shares.set(entry, (shares.get(entry) ?? 0) + 1);
    all.forEach((_rule, position) => {
      const { requirements, keysIgnoreCase } = facts[position] as IndexedRuleFacts;
      const filed = entries[position] as Map<Requirement, string[]>;
      // A loop, not Math.max(...): a list of a hundred thousand values would overflow the call's arguments.
      const sharing = (requirement: Requirement) => {
        let busiest = 0;
        for (const entry of filed.get(requirement) ?? []) busiest = Math.max(busiest, shares.get(entry) ?? 0);
        return breadthOf(requirement) * busiest;
      };
      for (const requirement of worthCounting(requirements, sharing)) {
        const id = this.ruleOf.length;
        const members = 'anyOf' in requirement ? requirement.anyOf : [requirement];
        // A member that cannot be filed would go unseen: the requirement is then left out altogether.
        const filed = members.length > 0 && members.every((member) => file(member, keysIgnoreCase, id));
        this.ruleOf.push(filed ? position : -1);
        if (filed) this.needed[position] = (this.needed[position] ?? 0) + 1;
      }
      if (this.needed[position] === 0) this.unindexed.push(position);
    });
    this.fields = fieldList.sort((a, b) => b.uses - a.uses);
    this.unindexedRules = this.unindexed.map((position) => all[position] as Rule);
    this.requirementEpoch = new Uint32Array(this.ruleOf.length);
    this.ruleEpoch = new Uint32Array(all.length);
    this.met = new Uint16Array(all.length);
  }

  summary(): RuleIndexSummary {
    return {
      rules: this.all.length,
      indexed: this.all.length - this.unindexed.length,
      keys: [...new Set(this.fields.map((field) => field.key))],
    };
  }

  /** The rules that can match this event, in rule order. */
  candidates(event: unknown): readonly Rule[] {
    if (this.fields.length === 0 || !isPlainObject(event)) return this.all;
    if (++this.epoch === 0xffffffff) this.restartEpochs();
    this.found = [];
    this.keys.visit(event, this.onFound, this.epoch, false);
    const found = this.found;
    if (found.length === 0) return this.unindexedRules;
    sortPositions(found);
    return this.merged(found);
  }

  /** Counts the requirements met; a rule whose every requirement is met becomes a candidate. */
  private meet(ids: readonly number[]): void {
    const epoch = this.epoch;
    for (const id of ids) {
      if (this.requirementEpoch[id] === epoch) continue;
      this.requirementEpoch[id] = epoch;
      const position = this.ruleOf[id] as number;
      if (position < 0) continue;
      let met = 1;
      if (this.ruleEpoch[position] === epoch) met = (this.met[position] as number) + 1;
      else this.ruleEpoch[position] = epoch;
      this.met[position] = met;
      if (met === this.needed[position]) this.found.push(position);
    }
  }

  /** The found rules and the unindexed ones, both in order, as one ordered list. */
  private merged(found: readonly number[]): Rule[] {
    const rules: Rule[] = [];
    const unindexed = this.unindexed;
    let next = 0;
    for (const position of found) {
      while (next < unindexed.length && (unindexed[next] as number) < position)
        rules.push(this.all[unindexed[next++] as number] as Rule);
      rules.push(this.all[position] as Rule);
    }
    while (next < unindexed.length) rules.push(this.all[unindexed[next++] as number] as Rule);
    return rules;
  }

  private restartEpochs(): void {
    this.epoch = 1;
    this.requirementEpoch.fill(0);
    this.ruleEpoch.fill(0);
    this.keys.forget();
  }
}
