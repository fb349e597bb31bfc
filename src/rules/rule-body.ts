// Rule sources arrive as YAML (application/yaml, text/yaml) or JSON; both are kept as the exact text sent,
// so stored versions and error positions match what the author wrote.
import type { RawBodyRequest } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError, UnsupportedMediaTypeError } from '../common/errors.js';
import type { SourceFormat } from './rule-source.js';

export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
export const RULE_SOURCE_MEDIA_TYPES = [...YAML_MEDIA_TYPES, 'application/json', 'text/plain'];

export function mediaType(request: FastifyRequest): string | undefined {
  const header = request.headers['content-type'];
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}

export function ruleSourceFromRequest(request: RawBodyRequest<FastifyRequest>): {
  text: string;
  format: SourceFormat;
} {
  const type = mediaType(request);
  let text: string | undefined;
  let format: SourceFormat = 'yaml';
  if (type === 'application/json') {
    text = request.rawBody?.toString('utf8');
    format = 'json';
  } else if (type !== undefined && RULE_SOURCE_MEDIA_TYPES.includes(type)) {
    text = typeof request.body === 'string' ? request.body : undefined;
  } else {
    throw new UnsupportedMediaTypeError(type, RULE_SOURCE_MEDIA_TYPES);
  }
  if (text === undefined || text.trim() === '') {
    throw new DomainError(
      400,
      'empty_body',
      'Empty body',
      'send the rule as YAML (Content-Type: application/yaml) or JSON',
    );
  }
  return { text, format };
}
