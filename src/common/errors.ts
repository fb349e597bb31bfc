// Domain errors: what went wrong, in the service's own terms. Each carries a stable `code` and the HTTP
// status it stands for; ProblemFilter is the one place that turns them into HTTP answers.

export class DomainError extends Error {
  /** Response headers that belong to the answer (e.g. WWW-Authenticate, Retry-After). */
  headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    /** Extra members of the problem document (RFC 9457 extensions), e.g. `errors`. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export interface ParameterProblem {
  /** The parameter, e.g. `limit`, `field.eventName`, or a body property path. */
  parameter: string;
  message: string;
}

export class InvalidParametersError extends DomainError {
  constructor(errors: readonly ParameterProblem[]) {
    const names = [...new Set(errors.map((error) => error.parameter))].join(', ');
    super(400, 'invalid_parameters', 'Invalid parameters', `invalid value for ${names}`, { errors });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(404, `${what}_not_found`, 'Not found', `no ${what.replace(/_/g, ' ')} ${JSON.stringify(id)}`);
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(409, code, 'Conflict', detail, extensions);
  }
}

export class UnprocessableError extends DomainError {
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(422, code, 'Unprocessable content', detail, extensions);
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(contentType: string | undefined, accepted: readonly string[]) {
    super(
      415,
      'unsupported_media_type',
      'Unsupported media type',
      `Content-Type ${JSON.stringify(contentType ?? '(none)')} is not accepted here; send one of ${accepted.join(', ')}`,
      { accepted },
    );
  }
}

export class UnauthorizedError extends DomainError {
  constructor(code: 'api_key_required' | 'invalid_api_key', detail: string) {
    super(401, code, 'Unauthorized', detail);
    this.headers = { 'www-authenticate': 'Bearer realm="tripline"' };
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail: string, extensions: Record<string, unknown> = {}) {
    super(403, 'insufficient_scope', 'Forbidden', detail, extensions);
  }
}

export class RateLimitedError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super(
      429,
      'rate_limited',
      'Too many requests',
      `this API key has made too many requests; retry after ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
    this.headers = { 'retry-after': String(retryAfterSeconds) };
  }
}
