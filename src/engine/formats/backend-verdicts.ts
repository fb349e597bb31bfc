// A backend's answer is read defensively: it comes from another process, and one wrong answer must cost
// only the verdicts it spoils, never the batch or the server.
import { MAX_ALERT_CONTEXT_CHARS, MAX_DEDUP_LENGTH, MAX_TITLE_LENGTH, type RuleOutputs } from '../outputs.js';
import { SEVERITIES, type Severity } from '../rule.js';
import { isPlainObject, truncate } from '../values.js';
import type { BackendRequest, DetectionBackend } from './rule-format.js';

export type Verdict =
  { error: string } | { matched: false } | { matched: true; outputs: Partial<RuleOutputs> };

/** Everything a backend answered, or the error it failed with. */
export type BackendAnswer = unknown[] | Error;

export async function askBackend(
  backend: DetectionBackend,
  requests: readonly BackendRequest[],
): Promise<BackendAnswer> {
  try {
    const answer: unknown = await backend.evaluate(requests);
    return Array.isArray(answer) ? answer : new Error('the answer is not a list');
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The verdict for the `rule`-th rule of the `request`-th request. */
export function verdictAt(
  backend: DetectionBackend,
  answer: BackendAnswer,
  request: number,
  rule: number,
): Verdict {
  const failed = (message: string): Verdict => ({ error: `${backend.name}: ${message}` });
  if (answer instanceof Error) return failed(answer.message);
  const verdicts: unknown = answer[request];
  const verdict: unknown = Array.isArray(verdicts) ? verdicts[rule] : undefined;
  if (!isPlainObject(verdict)) return failed('no verdict for this rule');
  if (typeof verdict.error === 'string') return failed(verdict.error);
  if (typeof verdict.matched !== 'boolean') return failed('a verdict without "matched"');
  return verdict.matched ? { matched: true, outputs: backendOutputs(verdict.outputs) } : { matched: false };
}

/** The outputs a backend computed, each kept only when it has the right type, cut as ours are. */
export function backendOutputs(outputs: unknown): Partial<RuleOutputs> {
  if (!isPlainObject(outputs)) return {};
  const kept: Partial<RuleOutputs> = {};
  if (typeof outputs.title === 'string') kept.title = truncate(outputs.title, MAX_TITLE_LENGTH);
  if (typeof outputs.dedup === 'string') kept.dedup = truncate(outputs.dedup, MAX_DEDUP_LENGTH);
  if (typeof outputs.severity === 'string' && (SEVERITIES as readonly string[]).includes(outputs.severity))
    kept.severity = outputs.severity as Severity;
  // Output fields past the size ours are held to are not taken: the rule's own are kept instead.
  if (
    isPlainObject(outputs.alertContext) &&
    JSON.stringify(outputs.alertContext).length <= MAX_ALERT_CONTEXT_CHARS
  )
    kept.alertContext = outputs.alertContext;
  return kept;
}
