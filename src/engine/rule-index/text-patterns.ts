// Finding, in one pass over a value, every pattern it starts with, ends with or contains, whatever the
// number of patterns: what lets a thousand `startswith`/`contains` rules cost an event about what one does.

interface AffixNode {
  next?: Map<number, AffixNode>;
  ids?: number[];
}

/**
 * Calls `found` with the ids of every pattern that `text` starts with (or ends with): a trie of the
 * patterns walked from the text's first (or last) character, which stops where no pattern goes on.
 */
export class AffixTable {
  private readonly root: AffixNode = {};

  constructor(private readonly end: 'start' | 'end') {}

  add(pattern: string, id: number): void {
    let node = this.root;
    for (let step = 0; step < pattern.length; step++) {
      const code = pattern.charCodeAt(this.end === 'start' ? step : pattern.length - 1 - step);
      const next = (node.next ??= new Map<number, AffixNode>());
      let child = next.get(code);
      if (!child) {
        child = {};
        next.set(code, child);
      }
      node = child;
    }
    (node.ids ??= []).push(id);
  }

  match(text: string, found: (ids: readonly number[]) => void): void {
    let node: AffixNode | undefined = this.root;
    const last = text.length - 1;
    for (let step = 0; node; step++) {
      if (node.ids) found(node.ids);
      if (step > last || !node.next) return;
      node = node.next.get(text.charCodeAt(this.end === 'start' ? step : last - step));
    }
  }
}

/**
 * Every pattern a text contains, in about (text length / shortest pattern) steps whatever the number of
 * patterns. Patterns are grouped by length; a group whose patterns have at least m characters needs to
 * look only at every (m − QGRAM + 1)th window of QGRAM characters of the text, since every occurrence
 * of such a pattern covers one of those windows within its first m characters. Each pattern is filed
 * under the hash of each of its windows there, and a window of the text whose hash is in a bit table is
 * compared with the patterns filed under it. Patterns shorter than QGRAM are searched one by one when
 * they are few, and by an Aho–Corasick automaton when they are many.
 */
export class SubstringMatcher {
  private readonly groups = new Map<number, SampledWindows>();
  private readonly short: { pattern: string; id: number }[] = [];
  private automaton: ShortPatternAutomaton | undefined;
  /** Ids of the empty pattern, which every string contains. */
  private readonly everywhere: number[] = [];

  add(pattern: string, id: number): void {
    this.automaton = undefined;
    if (pattern === '') this.everywhere.push(id);
    else if (pattern.length < QGRAM) this.short.push({ pattern, id });
    else {
      const minLength = GROUP_LENGTHS.findLast((length) => length <= pattern.length) ?? QGRAM;
      let group = this.groups.get(minLength);
      if (!group) {
        group = new SampledWindows(minLength);
        this.groups.set(minLength, group);
      }
      group.add(pattern, id);
    }
  }

  match(text: string, found: (ids: readonly number[]) => void): void {
    if (this.everywhere.length > 0) found(this.everywhere);
    if (this.short.length > 0) this.matchShort(text, found);
    for (const group of this.groups.values()) group.match(text, found);
  }

  private matchShort(text: string, found: (ids: readonly number[]) => void): void {
    if (this.short.length <= SEARCHED_ONE_BY_ONE) {
      for (const { pattern, id } of this.short) if (text.includes(pattern)) found([id]);
      return;
    }
    (this.automaton ??= new ShortPatternAutomaton(this.short)).match(text, found);
  }
}

/** Length of the windows hashed; patterns shorter than this are matched otherwise. */
const QGRAM = 4;
const HASH_BASE = 31;
const HASH_TABLE_SIZE = 1 << 16;
const HASH_MASK = HASH_TABLE_SIZE - 1;
/** The shortest pattern of each group: a group of patterns of at least m characters steps m − 3. */
const GROUP_LENGTHS = [QGRAM, 6, 8, 12, 16, 24, 32];
/** Up to this many short patterns, one native search each beats the automaton's per-character steps. */
const SEARCHED_ONE_BY_ONE = 8;

/** The hash of the QGRAM characters of `text` from `start`. */
function windowHash(text: string, start: number): number {
  return (
    (Math.imul(
      Math.imul(Math.imul(text.charCodeAt(start), HASH_BASE) + text.charCodeAt(start + 1), HASH_BASE) +
        text.charCodeAt(start + 2),
      HASH_BASE,
    ) +
      text.charCodeAt(start + 3)) |
    0
  );
}

interface FiledPattern {
  pattern: string;
  ids: readonly number[];
  /** Where in the pattern the window it is filed under starts. */
  offset: number;
}

/** Patterns of at least `minLength` characters, found through sampled windows of the text. */
class SampledWindows {
  private readonly step: number;
  private readonly windows = new Uint8Array(HASH_TABLE_SIZE);
  private readonly byHash = new Map<number, FiledPattern[]>();

  constructor(private readonly minLength: number) {
    this.step = minLength - QGRAM + 1;
  }

  add(pattern: string, id: number): void {
    const ids = [id];
    for (let offset = 0; offset <= this.minLength - QGRAM; offset++) {
      const hash = windowHash(pattern, offset);
      this.windows[hash & HASH_MASK] = 1;
      const filed = this.byHash.get(hash);
      if (filed) filed.push({ pattern, ids, offset });
      else this.byHash.set(hash, [{ pattern, ids, offset }]);
    }
  }

  match(text: string, found: (ids: readonly number[]) => void): void {
    for (let start = 0; start + QGRAM <= text.length; start += this.step) {
      const hash = windowHash(text, start);
      if (this.windows[hash & HASH_MASK] === 0) continue;
      for (const { pattern, ids, offset } of this.byHash.get(hash) ?? []) {
        const at = start - offset;
        if (at >= 0 && text.startsWith(pattern, at)) found(ids);
      }
    }
  }
}

/**
 * Aho–Corasick: a trie of the patterns with failure links, so that one scan of the text finds every
 * pattern at every position. Each state knows the ids of every pattern that ends there, its own and
 * those of the shorter patterns its failure links lead to.
 */
class ShortPatternAutomaton {
  private readonly next: Map<number, number>[] = [new Map<number, number>()];
  private readonly fail: number[] = [0];
  private readonly output: (readonly number[] | undefined)[] = [undefined];

  constructor(private readonly patterns: readonly { pattern: string; id: number }[]) {
    this.build();
  }

  match(text: string, found: (ids: readonly number[]) => void): void {
    let state = 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      let target = this.next[state]?.get(code);
      while (target === undefined && state !== 0) {
        state = this.fail[state] ?? 0;
        target = this.next[state]?.get(code);
      }
      state = target ?? 0;
      const ids = this.output[state];
      if (ids) found(ids);
    }
  }

  private build(): void {
    const own: number[][] = [[]];
    for (const { pattern, id } of this.patterns) {
      let state = 0;
      for (let index = 0; index < pattern.length; index++) {
        const code = pattern.charCodeAt(index);
        const transitions = this.next[state] as Map<number, number>;
        let target = transitions.get(code);
        if (target === undefined) {
          target = this.next.length;
          transitions.set(code, target);
          this.next.push(new Map<number, number>());
          this.fail.push(0);
          own.push([]);
        }
        state = target;
      }
      own[state]?.push(id);
    }
    // Breadth first: a state's failure link is found from its parent's, which is already known.
    const queue: number[] = [];
    for (const child of (this.next[0] as Map<number, number>).values()) queue.push(child);
    const outputs: number[][] = own.map((ids) => [...ids]);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [code, child] of this.next[state] as Map<number, number>) {
        queue.push(child);
        let fallback = this.fail[state] ?? 0;
        while (fallback !== 0 && !this.next[fallback]?.has(code)) fallback = this.fail[fallback] ?? 0;
        const link = this.next[fallback]?.get(code);
        this.fail[child] = link !== undefined && link !== child ? link : 0;
        // The failure state is shallower, so its outputs are complete by now.
        outputs[child]?.push(...(outputs[this.fail[child] ?? 0] ?? []));
      }
    }
    outputs.forEach((ids, state) => (this.output[state] = ids.length > 0 ? ids : undefined));
  }
}
