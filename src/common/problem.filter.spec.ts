import { createServer, connect, type Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { answerConnectionError, ProblemFilter } from './problem.filter.js';

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
