// HTTP for global helpers (/v1/global-helpers) and data models (/v1/data-models): the same operations for
// each kind, declared once and made into one controller per kind.
import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  type Type,
} from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../audit/audit.service.js';
import { Access, RequestActor } from '../auth/access.js';
import { InvalidParametersError } from '../common/errors.js';
import { ApiProblems, ApiRuleSourceBody } from '../common/openapi.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { ruleSourceFromRequest } from '../rules/rule-body.js';
import type { LibraryKind } from '../storage/entities.js';
import {
  LibraryItemDetailDto,
  LibraryItemListDto,
  LibraryUploadResultDto,
  LibraryVersionDto,
  LibraryVersionListDto,
  UploadLibraryQuery,
} from './dto/library.dto.js';
import { LibraryService, type LibraryUploadResult } from './library.service.js';
import type { LibraryItemDetailView, LibraryItemView, LibraryVersionView } from './library-views.js';

/** Where each kind lives in the API. */
export const LIBRARY_PATHS: Record<LibraryKind, string> = {
  global: 'global-helpers',
  datamodel: 'data-models',
};

const WORDING: Record<
  LibraryKind,
  { one: string; many: string; id: string; example: string; upload: string }
> = {
  global: {
    one: 'global helper',
    many: 'global helpers',
    id: 'GlobalID: the module name rules import it by',
    example: 'panther_base_helpers',
    upload:
      "One `AnalysisType: global` document in Panther's format, its Python under Body (YAML or JSON). It must import, and every running Python rule must still pass its tests with it; then it is stored as a new version (201), or nothing is stored when it equals the current one (200, unchanged). Refused with 422 and the reasons otherwise.",
  },
  datamodel: {
    one: 'data model',
    many: 'data models',
    id: 'DataModelID',
    example: 'Standard.AWS.CloudTrail',
    upload:
      "One `AnalysisType: datamodel` document in Panther's format (Mappings by Path or Method; the Python of its methods under Body). It must load, and every running Python rule must still pass its tests with it; then it is stored as a new version (201), or nothing is stored when it equals the current one (200, unchanged). Refused with 422 and the reasons otherwise.",
  },
};

function parseVersion(version: string): number {
  if (!/^\d{1,9}$/.test(version) || Number(version) < 1) {
    throw new InvalidParametersError([
      { parameter: 'version', message: 'version must be a whole number from 1' },
    ]);
  }
  return Number(version);
}

function libraryController(kind: LibraryKind): Type<unknown> {
  const words = WORDING[kind];
  const idParam = { name: 'id', description: words.id, example: words.example };

  @ApiTags(words.many)
  @Controller({ path: LIBRARY_PATHS[kind], version: '1' })
  class LibraryController {
    constructor(
      readonly library: LibraryService,
      @Inject(APP_CONFIG) readonly config: AppConfig,
    ) {}

    @Post()
    @Access('admin')
    @ApiOperation({ summary: `Create a ${words.one}, or a new version of it`, description: words.upload })
    @ApiRuleSourceBody(kind)
    @ApiResponse({
      status: 201,
      type: LibraryUploadResultDto,
      description: 'Stored: created, or a new version',
    })
    @ApiOkResponse({
      type: LibraryUploadResultDto,
      description: 'Identical to the current version; nothing stored',
    })
    @ApiProblems(400, 413, 415, 422)
    async create(
      @Req() request: FastifyRequest,
      @Query() query: UploadLibraryQuery,
      @Res({ passthrough: true }) reply: FastifyReply,
      @RequestActor() actor: Actor,
    ): Promise<LibraryUploadResult> {
      const { text, format } = ruleSourceFromRequest(request, this.config.limits.maxRuleChars);
      const result = await this.library.upsert(kind, text, {
        format,
        ignoreExtraKeys: query.ignoreExtraKeys ?? false,
        origin: 'api',
        actor,
      });
      void reply.status(result.action === 'unchanged' ? 200 : 201);
      return result;
    }

    @Get()
    @Access('read')
    @ApiOperation({ summary: `List ${words.many}`, description: 'Current versions, ordered by id.' })
    @ApiOkResponse({ type: LibraryItemListDto })
    @ApiProblems(400)
    async list(): Promise<{ items: LibraryItemView[] }> {
      return { items: await this.library.list(kind) };
    }

    @Get(':id')
    @Access('read')
    @ApiOperation({
      summary: `Get a ${words.one}`,
      description: 'The current version, with its source as stored.',
    })
    @ApiParam(idParam)
    @ApiOkResponse({ type: LibraryItemDetailDto })
    @ApiProblems(404)
    get(@Param('id') id: string): Promise<LibraryItemDetailView> {
      return this.library.get(kind, id);
    }

    @Delete(':id')
    @Access('admin')
    @HttpCode(204)
    @ApiOperation({
      summary: `Delete a ${words.one}`,
      description:
        'Refused (422) while a running Python rule fails its tests without it; its versions are kept, so every rule version still names what it was tested with.',
    })
    @ApiParam(idParam)
    @ApiNoContentResponse({ description: 'Deleted' })
    @ApiProblems(404, 422)
    async delete(@Param('id') id: string, @RequestActor() actor: Actor): Promise<void> {
      await this.library.delete(kind, id, actor);
    }

    @Get(':id/versions')
    @Access('read')
    @ApiOperation({
      summary: `List the versions of a ${words.one}`,
      description: 'Oldest first; `current` marks the one in use.',
    })
    @ApiParam(idParam)
    @ApiOkResponse({ type: LibraryVersionListDto })
    @ApiProblems(404)
    async versions(@Param('id') id: string): Promise<{ items: LibraryVersionView[] }> {
      return { items: await this.library.versions(kind, id) };
    }

    @Get(':id/versions/:version')
    @Access('read')
    @ApiOperation({
      summary: `Get one version of a ${words.one}, with its source`,
      description: 'Any version ever stored, also of a deleted one.',
    })
    @ApiParam(idParam)
    @ApiParam({
      name: 'version',
      description: 'A version number, from 1 (see the versions list)',
      example: 1,
    })
    @ApiOkResponse({ type: LibraryVersionDto })
    @ApiProblems(400, 404)
    version(@Param('id') id: string, @Param('version') version: string): Promise<LibraryVersionView> {
      return this.library.version(kind, id, parseVersion(version));
    }
  }
  Object.defineProperty(LibraryController, 'name', {
    value: kind === 'global' ? 'GlobalHelpersController' : 'DataModelsController',
  });
  return LibraryController;
}

export const GlobalHelpersController = libraryController('global');
export const DataModelsController = libraryController('datamodel');
