// Rule sources arrive as YAML (application/yaml, text/yaml) or JSON; both are kept as the exact text sent,
// so stored versions and error positions match what the author wrote.
import type { FastifyRequest } from 'fastify';
import { mediaType, YAML_MEDIA_TYPES } from '../common/body-parsers.js';
import { DomainError, UnsupportedMediaTypeError } from '../common/errors.js';
import type { SourceFormat } from './rule-source.js';

/** Routes whose body is a rule source; JSON reaches them as text so errors can name line and column. */
export const RULE_SOURCE_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/rules',
  'PUT /v1/rules/:ruleId',
  'POST /v1/rules/import',
  'POST /v1/global-helpers',
  'POST /v1/data-models',
]);

export const RULE_SOURCE_MEDIA_TYPES = [...YAML_MEDIA_TYPES, 'application/json', 'text/plain'];

export function ruleSourceFromRequest(
  request: FastifyRequest,
  /** RULE_MAX_CHARS for one rule, RULE_PACK_MAX_CHARS for a pack: larger is refused (413) before parsing. */
  limit: number,
): { text: string; format: SourceFormat } {
  const type = mediaType(request);
  if (!RULE_SOURCE_MEDIA_TYPES.includes(type)) {
    throw new UnsupportedMediaTypeError(type || undefined, RULE_SOURCE_MEDIA_TYPES);
  }
  const format: SourceFormat = type === 'application/json' ? 'json' : 'yaml';
  const text = typeof request.body === 'string' ? request.body : undefined;
  if (text !== undefined && text.length > limit) {
    throw new DomainError(
      413,
      'rule_source_too_large',
      'Rule source too large',
      `the rule source is larger than ${limit} characters`,
    );
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
