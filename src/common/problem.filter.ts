// The one place where errors become HTTP answers: RFC 9457 problem documents
// (`application/problem+json`) with a stable `code`. A client's mistake is a 4xx that says what and
// where; anything unexpected is a 500 that leaks nothing and is logged with the request id.
import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { dialectAnswer } from '../forwarders/forwarder-answers.js';
import { DomainError } from './errors.js';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(code: string): string {
  return `urn:problem:tripline:${code}`;
}

/** Fastify's own client errors (body parsing, size limits, media types) by their error code. */
const FASTIFY_CLIENT_ERRORS: Record<string, { code: string; title: string }> = {
  FST_ERR_BAD_URL: { code: 'invalid_url', title: 'Invalid URL' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', title: 'Invalid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'empty_body', title: 'Empty body' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', title: 'Body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_content_length', title: 'Invalid Content-Length' },
  FST_ERR_CTP_EMPTY_TYPE: { code: 'unsupported_media_type', title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'unsupported_media_type', title: 'Unsupported media type' },
};

interface ErrorWithStatus {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problem');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.send(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  /**
   * Answers with the problem an exception stands for (or, on a forwarder's route, the same told in its
   * protocol); also used by hooks that run before routing.
   */
  send(exception: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const problem = this.toProblem(exception, request);
    if (exception instanceof DomainError) void reply.headers(exception.headers);
    // A forwarder's route answers in its protocol (HEC, Elasticsearch): the same problem, told its way.
    const dialect = request.routeOptions.config.answers;
    if (dialect !== undefined) {
      const answer = dialectAnswer(dialect, problem);
      return reply
        .status(answer.status)
        .headers(answer.headers)
        .header('content-type', 'application/json; charset=utf-8')
        .send(answer.body);
    }
    return reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  }

  toProblem(exception: unknown, request: FastifyRequest): ProblemDocument {
    const base = { instance: request.url, requestId: request.id };
    if (exception instanceof DomainError) {
      return {
        ...exception.extensions,
        type: problemType(exception.code),
        title: exception.title,
        status: exception.status,
        detail: exception.message,
        code: exception.code,
        ...base,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) return this.internalError(exception, request);
      const { code, detail } = describeHttpException(status, exception.message, request);
      return { type: problemType(code), title: statusTitle(status), status, detail, code, ...base };
    }
    const fastifyError = exception as ErrorWithStatus | null;
    const statusCode = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : undefined;
    const known =
      typeof fastifyError?.code === 'string' ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      const message =
        typeof fastifyError?.message === 'string' ? fastifyError.message : statusTitle(statusCode);
      const code = known?.code ?? `http_${statusCode}`;
      return {
        type: problemType(code),
        title: known?.title ?? statusTitle(statusCode),
        status: statusCode,
        detail: message,
        code,
        ...base,
      };
    }
    return this.internalError(exception, request);
  }

  /** Anything unexpected: the log has the details under the request id; the answer has nothing else. */
  private internalError(exception: unknown, request: FastifyRequest): ProblemDocument {
    const base = { instance: request.url, requestId: request.id };
    const stack = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
    this.logger.error(`${request.method} ${request.url} [${base.requestId}] failed: ${stack}`);
    return {
      type: problemType('internal_error'),
      title: 'Internal error',
      status: 500,
      detail: `the server could not complete the request; quote request id ${base.requestId} when reporting it`,
      code: 'internal_error',
      ...base,
    };
  }
}

/** Nest wraps Fastify's body-parsing errors in HttpExceptions; give them stable codes and useful details. */
function describeHttpException(
  status: number,
  message: string,
  request: FastifyRequest,
): { code: string; detail: string } {
  const path = request.url.split('?')[0] ?? '';
  switch (status) {
    case 404:
      return { code: 'route_not_found', detail: `no route ${request.method} ${path}` };
    case 405:
      return { code: 'method_not_allowed', detail: `${request.method} is not allowed on ${path}` };
    case 413:
      return { code: 'body_too_large', detail: message };
    case 415:
      return {
        code: 'unsupported_media_type',
        detail: `Content-Type ${JSON.stringify(request.headers['content-type'] ?? '(none)')} is not accepted by ${request.method} ${path}`,
      };
    case 400:
      if (/not valid JSON/i.test(message)) return { code: 'invalid_json', detail: message };
      if (/cannot be empty/i.test(message)) return { code: 'empty_body', detail: message };
      return { code: 'bad_request', detail: message };
    default:
      return { code: `http_${status}`, detail: message };
  }
}

function statusTitle(status: number): string {
  const name = (HttpStatus as unknown as Record<number, string | undefined>)[status];
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word, index) => (index === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word))
    .join(' ');
}
