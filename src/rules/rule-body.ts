// Rule sources arrive as YAML (application/yaml, text/yaml) or JSON; both are kept as the exact text sent,
// so stored versions and error positions match what the author wrote. A Python rule may also come as
// multipart/form-data (its YAML and its .py), and a pack as a zip or gzipped tar of a whole tree.
import type { FastifyRequest } from 'fastify';
import { ArchiveError, readArchive } from '../common/archives.js';
import { mediaType, YAML_MEDIA_TYPES } from '../common/body-parsers.js';
import { DomainError, UnsupportedMediaTypeError } from '../common/errors.js';
import { multipartBoundary, readMultipart, type FormPart } from '../common/multipart.js';
import type { Diagnostic } from '../engine/diagnostics.js';
import type { SourceFormat } from './rule-source.js';
import { isTreeFile, packSourcesFromTree, type PackSource, type TreeFile } from './rule-tree.js';

/** Routes whose body is a rule source; JSON reaches them as text so errors can name line and column. */
export const RULE_SOURCE_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/rules',
  'PUT /v1/rules/:ruleId',
  'POST /v1/rules/import',
  'POST /v1/global-helpers',
  'POST /v1/data-models',
]);

export const RULE_SOURCE_MEDIA_TYPES = [...YAML_MEDIA_TYPES, 'application/json', 'text/plain'];

const MULTIPART = 'multipart/form-data';
/** How clients label a zip or a (gzipped) tar; the content itself says which it is. */
export const ARCHIVE_MEDIA_TYPES = [
  'application/zip',
  'application/x-zip-compressed',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/x-gtar',
  'application/octet-stream',
];

/** Routes that also take a body as bytes: a rule and its .py as multipart, a pack as an archive too. */
export const RULE_BINARY_ROUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ['POST /v1/rules', [MULTIPART]],
  ['PUT /v1/rules/:ruleId', [MULTIPART]],
  ['POST /v1/rules/import', [MULTIPART, ...ARCHIVE_MEDIA_TYPES]],
]);

/** Files in one multipart upload or archive, at most. */
const MAX_TREE_FILES = 20_000;

function tooLarge(limit: number, detail?: string): DomainError {
  return new DomainError(
    413,
    'rule_source_too_large',
    'Rule source too large',
    detail ?? `the rule source is larger than ${limit} characters`,
  );
}

function invalidBody(code: string, detail: string): DomainError {
  return new DomainError(400, code, 'Invalid body', detail);
}

/** The files of a multipart body: every part that carries a file name. */
function multipartFiles(request: FastifyRequest, body: Buffer, limit: number): TreeFile[] {
  const boundary = multipartBoundary(request.headers['content-type']);
  if (boundary === undefined)
    throw invalidBody('invalid_multipart', 'multipart/form-data needs a boundary parameter');
  let parts: FormPart[];
  try {
    parts = readMultipart(body, boundary, MAX_TREE_FILES);
  } catch (error) {
    throw invalidBody('invalid_multipart', `the multipart body cannot be read: ${(error as Error).message}`);
  }
  const files = parts.flatMap((part) =>
    part.filename
      ? [{ path: part.filename.replaceAll('\\', '/').split('/').pop() ?? part.filename, data: part.data }]
      : [],
  );
  if (files.length === 0)
    throw invalidBody(
      'invalid_multipart',
      'the multipart body holds no file: send the rule’s YAML and its .py as file parts',
    );
  if (files.reduce((total, file) => total + file.data.length, 0) > limit) throw tooLarge(limit);
  return files;
}

/** A pack as the request sends it: YAML or JSON text, a multipart upload of files, or a zip or tar of a tree. */
export function packFromRequest(
  request: FastifyRequest,
  limit: number,
  /** What a gzipped tar may inflate to as a whole, its other files included. */
  maxArchiveBytes: number,
): { sources: PackSource[]; warnings: Diagnostic[] } {
  const type = mediaType(request);
  if (Buffer.isBuffer(request.body)) {
    let files: TreeFile[];
    if (type === MULTIPART) files = multipartFiles(request, request.body, limit);
    else {
      try {
        files = readArchive(request.body, {
          maxBytes: limit,
          maxFiles: MAX_TREE_FILES,
          maxArchiveBytes,
          keep: isTreeFile,
        });
      } catch (error) {
        if (!(error instanceof ArchiveError)) throw error;
        if (/expands to more|more than \d+ files/.test(error.message)) throw tooLarge(limit, error.message);
        throw invalidBody('invalid_archive', error.message);
      }
    }
    const tree = packSourcesFromTree(files);
    if (tree.sources.length === 0)
      throw new DomainError(
        422,
        'empty_pack',
        'Unprocessable content',
        `the ${type === MULTIPART ? 'upload' : 'archive'} holds no .yml, .yaml or .json analysis file`,
      );
    return tree;
  }
  const { text, format } = ruleSourceFromRequest(request, limit);
  return { sources: [{ text, format }], warnings: [] };
}

export function ruleSourceFromRequest(
  request: FastifyRequest,
  /** RULE_MAX_CHARS for one rule, RULE_PACK_MAX_CHARS for a pack: larger is refused (413) before parsing. */
  limit: number,
): { text: string; format: SourceFormat } {
  const type = mediaType(request);
  if (type === MULTIPART && Buffer.isBuffer(request.body)) {
    // One rule file and the .py it names, sent as two file parts.
    const { sources } = packSourcesFromTree(multipartFiles(request, request.body, limit));
    const [only, ...more] = sources;
    if (only === undefined || more.length > 0)
      throw new DomainError(
        422,
        'multiple_rules',
        'Unprocessable content',
        `the upload holds ${sources.length} YAML or JSON files; this operation takes one, with the .py it names (send more to POST /v1/rules/import)`,
      );
    return { text: only.text, format: only.format };
  }
  if (!RULE_SOURCE_MEDIA_TYPES.includes(type)) {
    throw new UnsupportedMediaTypeError(type || undefined, [...RULE_SOURCE_MEDIA_TYPES, MULTIPART]);
  }
  const format: SourceFormat = type === 'application/json' ? 'json' : 'yaml';
  const text = typeof request.body === 'string' ? request.body : undefined;
  if (text !== undefined && text.length > limit) throw tooLarge(limit);
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
