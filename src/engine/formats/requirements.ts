// Building blocks formats share to state what their detections require (rule-format.ts, Requirement):
// where a path points, and what an `or` requires when each of its branches requires something.
import type { PathSegment } from '../paths.js';
import type { KeyRequirement, Requirement } from './rule-format.js';

/** The place a path names, when it is object keys only (a list index or a wildcard reads many values). */
export function requirementPlace(
  segments: readonly PathSegment[],
): { key: string; path?: string[] } | undefined {
  if (segments.length === 0) return undefined;
  const keys: string[] = [];
  for (const segment of segments) {
    if (typeof segment !== 'string' || segment === '*') return undefined;
    keys.push(segment);
  }
  const [only] = keys;
  return keys.length === 1 && only !== undefined ? { key: only } : { key: keys.join('.'), path: keys };
}

/** How much a requirement narrows, roughly: exact values first, then text, networks, mere presence. */
function strength(requirement: KeyRequirement): number {
  if ('values' in requirement) return 0;
  if ('text' in requirement) return requirement.text === 'equals' ? 0 : 1;
  if ('networks' in requirement) return 2;
  return 3;
}

function strongest(requirements: readonly Requirement[]): Requirement | undefined {
  let best: Requirement | undefined;
  let bestStrength = Infinity;
  for (const requirement of requirements) {
    const value = 'anyOf' in requirement ? 4 : strength(requirement);
    if (value < bestStrength) [best, bestStrength] = [requirement, value];
  }
  return best;
}

/**
 * What `a or b or …` requires: when every branch requires something, one of those things (each branch's
 * strongest). Exact values at the same place join into one list (`eventName eq "A" or eventName eq "B"`
 * requires eventName in [A, B]). A branch that requires nothing leaves the `or` requiring nothing.
 */
export function requirementOfBranches(branches: readonly (readonly Requirement[])[]): Requirement[] {
  const members: KeyRequirement[] = [];
  for (const branch of branches) {
    const chosen = strongest(branch);
    if (chosen === undefined) return [];
    if ('anyOf' in chosen) members.push(...chosen.anyOf);
    else members.push(chosen);
  }
  const [first] = members;
  if (first === undefined) return [];
  if ('values' in first && members.every((member) => 'values' in member && samePlace(member, first))) {
    const values = new Set<string>();
    for (const member of members)
      if ('values' in member) for (const value of member.values) values.add(value);
    return [{ ...first, values }];
  }
  return [members.length === 1 ? first : { anyOf: members }];
}

function samePlace(a: KeyRequirement, b: KeyRequirement): boolean {
  return a.key === b.key && (a.path === undefined) === (b.path === undefined);
}

/** One line per requirement, for tests and reports: `eventName=A|B`, `userAgent~*kali*`, `errorCode?`. */
export function describeRequirement(requirement: Requirement): string {
  if ('anyOf' in requirement) return requirement.anyOf.map(describeRequirement).join(' or ');
  if ('values' in requirement) return `${requirement.key}=${[...requirement.values].join('|')}`;
  if ('networks' in requirement) return `${requirement.key} in ${requirement.networks.join('|')}`;
  if ('present' in requirement) return `${requirement.key}?`;
  const star = (pattern: string) =>
    requirement.text === 'prefix'
      ? `${pattern}*`
      : requirement.text === 'suffix'
        ? `*${pattern}`
        : requirement.text === 'substring'
          ? `*${pattern}*`
          : pattern;
  return `${requirement.key}${requirement.ignoreCase ? '~i' : '~'}${requirement.patterns.map(star).join('|')}`;
}
