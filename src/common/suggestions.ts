// "Did you mean …?" for names a client got nearly right: a parameter, a log type. Only a near and
// unambiguous match is offered: the same name in another case, or one a couple of keystrokes away.

/** The one candidate `input` most likely meant, or undefined when none is near enough or several are. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  const pool = [...new Set(candidates)].filter((candidate) => candidate !== input);
  const sameButCase = pool.filter((candidate) => candidate.toLowerCase() === lower);
  if (sameButCase.length > 0) return sameButCase.length === 1 ? sameButCase[0] : undefined;
  // A prefix names the same thing shorter (`rule` for `ruleId`), if only one candidate starts so.
  if (lower.length >= 3) {
    const extended = pool.filter((candidate) => candidate.toLowerCase().startsWith(lower));
    if (extended.length === 1) return extended[0];
  }
  const allowed = Math.max(1, Math.floor(input.length / 4));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  let tied = false;
  for (const candidate of pool) {
    const distance = editDistance(lower, candidate.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      tied = false;
    } else if (distance === bestDistance) tied = true;
  }
  return bestDistance <= allowed && !tied ? best : undefined;
}

/** Levenshtein distance, given up (any answer above `limit`) once it must exceed `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let rowBest = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      current.push(value);
      rowBest = Math.min(rowBest, value);
    }
    if (rowBest > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] as number;
}
