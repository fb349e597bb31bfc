// What a service call refused with: the domain error, whose status and code the problem filter answers.
import { DomainError } from '../../src/common/errors.js';

/** The domain error `work` throws; anything else (or no error) fails the test. */
export async function refusal(work: Promise<unknown>): Promise<DomainError> {
  const error: unknown = await work.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}
