// Request bodies, parsed in one place. Most routes get parsed JSON or text; rule uploads get their JSON
// as text (parsed later with line and column); routes that stream their bodies (ingest) get the stream.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { jsonDepth } from '../engine/values.js';
import { DomainError, UnsupportedMediaTypeError } from './errors.js';

export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const TEXT_TYPES = new Set([...YAML_MEDIA_TYPES, 'text/plain']);
export const PARSED_MEDIA_TYPES = ['application/json', ...TEXT_TYPES];

/** The media type of a request's Content-Type, lower-cased, without parameters ('' when there is none). */
export function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isJson(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

function readAll(payload: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(payload.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(
        new DomainError(413, 'body_too_large', 'Body too large', `the body is larger than ${limit} bytes`),
      );
      payload.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        payload.removeAllListeners('data');
        payload.resume();
        reject(
          new DomainError(413, 'body_too_large', 'Body too large', `the body is larger than ${limit} bytes`),
        );
        return;
      }
      chunks.push(chunk);
    });
    payload.on('end', () => resolve(Buffer.concat(chunks)));
    payload.on('error', reject);
  });
}

export interface BodyParserOptions {
  bodyLimit: number;
  /** JSON bodies nested deeper than this are refused before anything walks them. */
  maxJsonDepth: number;
  /** Route paths (as registered, e.g. /v1/events) whose handlers read the raw body stream themselves. */
  streamedRoutes: ReadonlySet<string>;
  /** `METHOD /path` of routes that take JSON as text, to parse it themselves with positions. */
  textRoutes: ReadonlySet<string>;
  /** `METHOD /path` of routes that also take these media types, as a Buffer (archives, multipart). */
  binaryRoutes: ReadonlyMap<string, readonly string[]>;
}

export function registerBodyParsers(fastify: FastifyInstance, options: BodyParserOptions): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, payload, done) => {
    // No route: the answer is a 404 whatever the body holds, and nobody unauthenticated gets it parsed.
    if (request.routeOptions.url === undefined) {
      payload.resume();
      done(null, undefined);
      return;
    }
    if (options.streamedRoutes.has(request.routeOptions.url)) {
      done(null, payload);
      return;
    }
    const type = mediaType(request);
    const route = `${request.method} ${request.routeOptions.url}`;
    if (options.binaryRoutes.get(route)?.includes(type)) {
      readAll(payload, options.bodyLimit).then(
        (buffer) => done(null, buffer),
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
      return;
    }
    if (!isJson(type) && !TEXT_TYPES.has(type)) {
      payload.resume();
      done(
        new UnsupportedMediaTypeError(type || undefined, [
          ...PARSED_MEDIA_TYPES,
          ...(options.binaryRoutes.get(route) ?? []),
        ]),
      );
      return;
    }
    readAll(payload, options.bodyLimit).then(
      (buffer) => {
        // A byte-order mark says nothing about the content; some editors and Windows tools add one.
        const text = buffer.toString('utf8').replace(/^\uFEFF/, '');
        if (!isJson(type) || options.textRoutes.has(route)) {
          done(null, text);
          return;
        }
        if (text.trim() === '') {
          done(
            new DomainError(400, 'empty_body', 'Empty body', 'the body is empty but Content-Type says JSON'),
          );
          return;
        }
        try {
          const parsed: unknown = JSON.parse(text);
          if (jsonDepth(parsed, options.maxJsonDepth) > options.maxJsonDepth) {
            done(
              new DomainError(
                400,
                'too_deep',
                'Body nested too deeply',
                `the JSON body nests deeper than ${options.maxJsonDepth} levels`,
              ),
            );
            return;
          }
          done(null, parsed);
        } catch (error) {
          done(
            new DomainError(
              400,
              'invalid_json',
              'Invalid JSON',
              `the body is not valid JSON: ${(error as Error).message}`,
            ),
          );
        }
      },
      (error: unknown) => {
        done(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
