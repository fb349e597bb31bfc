import { readdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { Controller, Get, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, RouteConfig, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, UnauthorizedError } from './errors.js';
import { answerConnectionError, ProblemFilter, type ErrorAnswerFormat } from './problem.filter.js';

/** A real connection: the server's end (where the answer is written) and what its client receives. */
async function connection(): Promise<{ server: Socket; received: Promise<string>; close: () => void }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address() as { port: number };
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const client = connect(address.port, '127.0.0.1');
  let text = '';
  client.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const received = new Promise<string>((resolve) => client.on('close', () => resolve(text)));
  return { server: await accepted, received, close: () => listener.close() };
}

describe('answers to what the HTTP parser refuses', () => {
  const opened: (() => void)[] = [];
  afterEach(() => opened.splice(0).forEach((close) => close()));

  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'Request Timeout', 'request_timeout'],
    ['HPE_HEADER_OVERFLOW', 431, 'Request Header Fields Too Large', 'headers_too_large'],
    ['HPE_INVALID_METHOD', 400, 'Bad Request', 'bad_request'],
  ])('%s is a %i problem document, and the connection is closed', async (code, status, title, problem) => {
    const { server, received, close } = await connection();
    opened.push(close);
    answerConnectionError(Object.assign(new Error('refused'), { code }), server);
    const answer = await received;
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')).toEqual([
      `HTTP/1.1 ${status} ${title}`,
      'Content-Type: application/problem+json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ]);
    expect(JSON.parse(body)).toMatchObject({ status, title, code: problem });
  });

  it('writes nothing to a connection the client reset', async () => {
    const { server, received, close } = await connection();
    opened.push(close);
    answerConnectionError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), server);
    expect(await received).toBe('');
  });
});

describe('an unexpected error', () => {
  it('is a 500 naming only the request id, logged with the path but not the query string', () => {
    const logged: string[] = [];
    Logger.overrideLogger({
      log: () => undefined,
      warn: () => undefined,
      error: (message: unknown) => logged.push(String(message)),
    });
    try {
      const request = {
        url: '/v1/hits?field.password=hunter2',
        method: 'GET',
        id: 'req-7',
      } as unknown as FastifyRequest;
      const problem = new ProblemFilter().toProblem(new Error('boom'), request);
      expect(problem).toMatchObject({ status: 500, code: 'internal_error', requestId: 'req-7' });
      expect(JSON.stringify(problem)).not.toContain('boom');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('GET /v1/hits [req-7] failed: Error: boom');
      expect(logged[0]).not.toContain('hunter2');
    } finally {
      Logger.overrideLogger(false);
    }
  });
});

/** A format no protocol has, so that only the route can have chosen it. */
const teapotAnswer: ErrorAnswerFormat = (problem) => ({
  status: 418,
  body: { teapot: problem.code, said: problem.detail },
  headers: { 'x-teapot': 'yes' },
});

@Controller()
class ProbeController {
  @Get('own-format')
  @RouteConfig({ errorAnswerFormat: teapotAnswer })
  ownFormat(): never {
    throw new NotFoundError('probe', 'p-1');
  }

  @Get('no-format')
  noFormat(): never {
    throw new NotFoundError('probe', 'p-1');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('a route that brings its own error answer format', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const problems = new ProblemFilter();
    app = await NestFactory.create<NestFastifyApplication>(ProbeModule, new FastifyAdapter(), {
      logger: false,
    });
    // As the request guard does: a refusal before the handler runs goes through the same filter.
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', async (request, reply) => {
        if (request.headers['x-refuse'] !== undefined)
          return problems.send(new UnauthorizedError('api_key_required', 'no key'), request, reply);
      });
    app.useGlobalFilters(problems);
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });

  it('answers its errors in that format, the same problem told its way', async () => {
    const answer = await get('/own-format');
    expect(answer.statusCode).toBe(418);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['x-teapot']).toBe('yes');
    expect(answer.json()).toEqual({ teapot: 'probe_not_found', said: 'no probe "p-1"' });
  });

  it("answers in that format what a hook refuses before the handler, with the error's own headers", async () => {
    const answer = await get('/own-format', { 'x-refuse': '1' });
    expect(answer.statusCode).toBe(418);
    expect(answer.headers['www-authenticate']).toBeDefined();
    expect(answer.json()).toEqual({ teapot: 'api_key_required', said: 'no key' });
  });

  it('leaves a route without one, and a path no route has, with problem+json', async () => {
    for (const [url, status, code] of [
      ['/no-format', 404, 'probe_not_found'],
      ['/no-such-route', 404, 'route_not_found'],
    ] as const) {
      const answer = await get(url);
      expect(answer.statusCode, url).toBe(status);
      expect(answer.headers['content-type'], url).toBe('application/problem+json; charset=utf-8');
      expect(answer.headers['x-teapot'], url).toBeUndefined();
      expect(answer.json(), url).toMatchObject({ status, code, instance: url });
    }
  });
});

// Formats come from the routes: common/ knows no protocol, and the forwarders depend on it, not back.
it('common/ imports nothing from the forwarders', () => {
  const directory = new URL('.', import.meta.url);
  const importers = readdirSync(directory)
    .filter((name) => name.endsWith('.ts'))
    .filter((name) => /from '\.\.\/forwarders\//.test(readFileSync(new URL(name, directory), 'utf8')));
  expect(importers).toEqual([]);
});
