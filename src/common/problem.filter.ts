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
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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

/** An error answer in a route's own format, sent as JSON. */
export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * How a route whose clients read another protocol (a forwarder's: Splunk HEC, Elasticsearch) tells a
 * problem: the route brings it in its Fastify config, so this filter stays the one mapping place without
 * knowing any protocol.
 */
export type ErrorAnswerFormat = (problem: ProblemDocument) => ErrorAnswer;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's own error answer format; unset (and before routing), problem+json. */
    errorAnswerFormat?: ErrorAnswerFormat;
  }
}

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
   * Answers with the problem an exception stands for (or, on a route with its own error answer format,
   * the same told its way); also used by hooks that run before routing.
   */
  send(exception: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const problem = this.toProblem(exception, request);
    if (exception instanceof DomainError) void reply.headers(exception.headers);
    // A route that brings its own format (a forwarder's) tells the same problem its way.
    const format = request.routeOptions.config.errorAnswerFormat;
    if (format !== undefined) {
      const answer = format(problem);
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
    if (clientWentAway(exception, request)) {
      return {
        type: problemType('request_aborted'),
        title: 'Request aborted',
        status: 400,
        detail: 'the client closed the connection before the request arrived in full; nothing was stored',
        code: 'request_aborted',
        ...base,
      };
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
    // The path only: a query string may hold values that do not belong in logs.
    const path = request.url.split('?', 1)[0] ?? '';
    this.logger.error(`${request.method} ${path} [${base.requestId}] failed: ${stack}`);
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

/**
 * The client closed the connection mid-request (Node's "aborted"): its mistake or its network's, never a
 * server fault; nobody is left to answer, and the log line of the request says 400.
 */
function clientWentAway(exception: unknown, request: FastifyRequest): boolean {
  const code = (exception as ErrorWithStatus | null)?.code;
  return code === 'ECONNRESET' && request.raw.destroyed;
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

/** What Node's HTTP parser refuses before any route sees the request, by its error code. */
const CONNECTION_PROBLEMS: Record<string, { status: number; code: string; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    detail: 'the request did not arrive in full within REQUEST_TIMEOUT_MS',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    detail: 'the request headers are larger than the server accepts',
  },
};

/**
 * Answers a request Node's HTTP parser could not read (malformed, headers too large, too slow) with a
 * problem document, as every other refusal is, then closes the connection: Fastify's own answer is plain
 * JSON. Nothing is answered when the client is gone or an answer is already under way.
 */
export function answerConnectionError(error: Error & { code?: string }, socket: Socket): void {
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const known = error.code === undefined ? undefined : CONNECTION_PROBLEMS[error.code];
  const status = known?.status ?? 400;
  const code = known?.code ?? 'bad_request';
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const body = JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail: known?.detail ?? 'the request is not valid HTTP/1.1',
    code,
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
