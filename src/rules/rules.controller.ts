import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Inject,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../audit/audit.service.js';
import { Access, RequestActor } from '../auth/access.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidParametersError } from '../common/errors.js';
import { rejectUnknown, type RawQuery } from '../common/query-params.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { ApiProblems, ApiRuleSourceBody } from '../common/openapi.js';
import { INGEST_EXAMPLE } from '../ingest/ingest-examples.js';
import {
  DEFAULT_RULE_PAGE,
  ImportRulesQuery,
  ListRulesQuery,
  parseTestRuleBody,
  PatchRuleBody,
  TestRuleBody,
  UploadRuleQuery,
} from './dto/rule-queries.dto.js';
import {
  ImportReportDto,
  RuleDetailDto,
  RuleListDto,
  RuleSummaryDto,
  RuleTestRunDto,
  RuleVersionDto,
  RuleVersionListDto,
  UploadResultDto,
} from './dto/rule-responses.dto.js';
import { packFromRequest, ruleSourceFromRequest } from './rule-body.js';
import type { RuleDetailView, RuleSummaryView, RuleVersionView } from './rule-views.js';
import { RulesService, type ImportReport, type UploadResult } from './rules.service.js';
import { SEED_RULE_EXAMPLE, uploadResultExample } from './rule-examples.js';

const RULE_ID_PARAM = {
  name: 'ruleId',
  description: 'The rule’s RuleID',
  example: 'AWS.CloudTrail.VPCE.ExternalPrincipal',
};

@ApiTags('rules')
@Controller({ path: 'rules', version: '1' })
export class RulesController {
  constructor(
    private readonly rules: RulesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @Access('admin')
  @ApiOperation({
    summary: 'Create a rule, or a new version of it',
    description:
      "Send one rule in Panther's format as YAML or JSON. It is checked, its own Tests run, and it is stored as a new version when it differs from the current one (201); an identical upload stores nothing (200, action unchanged). A rule whose tests fail is refused (422, every failing test) unless storeDisabled=true.",
  })
  @ApiRuleSourceBody('rule')
  @ApiResponse({
    status: 201,
    type: UploadResultDto,
    description: 'Stored: created, or a new version',
    example: uploadResultExample('created'),
  })
  @ApiOkResponse({
    type: UploadResultDto,
    description: 'Identical to the current version; nothing stored',
    example: uploadResultExample('unchanged'),
  })
  @ApiProblems(400, 413, 415, 422)
  async create(
    @Req() request: FastifyRequest,
    @Query() query: UploadRuleQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
    @RequestActor() actor: Actor,
  ): Promise<UploadResult> {
    const { text, format } = ruleSourceFromRequest(request, this.config.limits.maxRuleChars);
    const result = await this.rules.upsert(text, {
      format,
      ignoreExtraKeys: query.ignoreExtraKeys ?? false,
      storeDisabled: query.storeDisabled ?? false,
      origin: 'api',
      actor,
    });
    void reply.status(result.action === 'unchanged' ? 200 : 201);
    return result;
  }

  @Get()
  @Access('read')
  @ApiOperation({
    summary: 'List rules',
    description: 'Current versions, ordered by rule id, with filters and cursor pagination.',
  })
  @ApiOkResponse({ type: RuleListDto })
  @ApiProblems(400)
  list(@Query() query: ListRulesQuery): Promise<{ items: RuleSummaryView[]; nextCursor: string | null }> {
    return this.rules.list({
      logType: query.logType,
      enabled: query.enabled,
      severity: query.severity,
      tag: query.tag,
      q: query.q,
      limit: query.limit ?? DEFAULT_RULE_PAGE,
      cursor: query.cursor,
    });
  }

  @Post('import')
  @Access('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import a pack',
    description:
      'A multi-document YAML stream of rules, global helpers and data models; or a whole detection-as-code tree (a Panther-style repository) as a zip or gzipped tar, or as multipart/form-data files, where a Python rule’s .py sits beside its YAML (what `tripline push DIR` sends). Every rule is checked and tested first (Python rules with the pack’s helpers); then all are stored in one transaction, or none (422 with the reasons). Files Tripline does not keep (packs, policies, queries, lookup tables) are left out with a warning. dryRun=true reports what would change and changes nothing.',
  })
  @ApiRuleSourceBody('pack')
  @ApiOkResponse({ type: ImportReportDto })
  @ApiProblems(400, 413, 415, 422)
  import(
    @Req() request: FastifyRequest,
    @Query() query: ImportRulesQuery,
    @RequestActor() actor: Actor,
  ): Promise<ImportReport> {
    const { sources, warnings } = packFromRequest(
      request,
      this.config.limits.maxPackChars,
      this.config.ingest.maxDecompressedBytes,
    );
    return this.rules.import(sources, {
      warnings,
      ignoreExtraKeys: query.ignoreExtraKeys ?? false,
      storeDisabled: query.storeDisabled ?? false,
      dryRun: query.dryRun ?? false,
      origin: 'import',
      actor,
    });
  }

  @Get('export')
  @Access('read')
  @Header('content-type', 'application/yaml; charset=utf-8')
  @ApiOperation({
    summary: 'Export every rule',
    description:
      'The current version of every rule as one multi-document YAML stream, ordered by rule id; Enabled reflects each rule’s state. Import it elsewhere as a pack.',
  })
  @ApiProduces('application/yaml')
  @ApiOkResponse({
    description: 'A multi-document YAML stream',
    // One document: Swagger UI cannot show a multi-document YAML example.
    content: { 'application/yaml': { schema: { type: 'string' }, example: SEED_RULE_EXAMPLE } },
  })
  export(): Promise<string> {
    return this.rules.export();
  }

  @Get(':ruleId')
  @Access('read')
  @ApiOperation({
    summary: 'Get a rule',
    description: 'The current version: its source as uploaded and the parsed view.',
  })
  @ApiParam(RULE_ID_PARAM)
  @ApiOkResponse({ type: RuleDetailDto })
  @ApiProblems(404)
  get(@Param('ruleId') ruleId: string): Promise<RuleDetailView> {
    return this.rules.get(ruleId);
  }

  @Put(':ruleId')
  @Access('admin')
  @ApiOperation({
    summary: 'Replace a rule (new version)',
    description:
      'Stores the body as a new version of an existing rule; its RuleID must be the one in the path. Same checks as create.',
  })
  @ApiParam(RULE_ID_PARAM)
  @ApiRuleSourceBody('rule')
  @ApiOkResponse({
    type: UploadResultDto,
    description: 'Stored as a new version (updated), or identical to the current one (unchanged)',
    example: uploadResultExample('updated'),
  })
  @ApiProblems(400, 404, 413, 415, 422)
  replace(
    @Param('ruleId') ruleId: string,
    @Req() request: FastifyRequest,
    @Query() query: UploadRuleQuery,
    @RequestActor() actor: Actor,
  ): Promise<UploadResult> {
    const { text, format } = ruleSourceFromRequest(request, this.config.limits.maxRuleChars);
    return this.rules.replace(ruleId, text, {
      format,
      ignoreExtraKeys: query.ignoreExtraKeys ?? false,
      storeDisabled: query.storeDisabled ?? false,
      origin: 'api',
      actor,
    });
  }

  @Patch(':ruleId')
  @Access('admin')
  @ApiOperation({
    summary: 'Enable or disable a rule',
    description: 'Changes whether the rule runs; makes no new version.',
  })
  @ApiParam(RULE_ID_PARAM)
  @ApiBody({ type: PatchRuleBody })
  @ApiOkResponse({ type: RuleSummaryDto })
  @ApiProblems(400, 404)
  patch(
    @Param('ruleId') ruleId: string,
    @Body() body: PatchRuleBody,
    @RequestActor() actor: Actor,
  ): Promise<RuleSummaryView> {
    return this.rules.setEnabled(ruleId, body.enabled, actor);
  }

  @Delete(':ruleId')
  @Access('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a rule',
    description: 'It stops running; its versions are kept so that past hits still name them.',
  })
  @ApiParam(RULE_ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(404)
  async delete(@Param('ruleId') ruleId: string, @RequestActor() actor: Actor): Promise<void> {
    await this.rules.delete(ruleId, actor);
  }

  @Get(':ruleId/versions')
  @Access('read')
  @ApiOperation({
    summary: 'List the versions of a rule',
    description: 'Oldest first; `current` marks the one that runs.',
  })
  @ApiParam(RULE_ID_PARAM)
  @ApiOkResponse({ type: RuleVersionListDto })
  @ApiProblems(404)
  async versions(@Param('ruleId') ruleId: string): Promise<{ items: RuleVersionView[] }> {
    return { items: await this.rules.versions(ruleId) };
  }

  @Get(':ruleId/versions/:version')
  @Access('read')
  @ApiOperation({
    summary: 'Get one version of a rule, with its source',
    description: 'Any version ever stored, also of a deleted rule: what a hit names is always readable.',
  })
  @ApiParam(RULE_ID_PARAM)
  @ApiParam({ name: 'version', description: 'A version number, from 1 (see the versions list)', example: 1 })
  @ApiOkResponse({ type: RuleVersionDto })
  @ApiProblems(400, 404)
  version(@Param('ruleId') ruleId: string, @Param('version') version: string): Promise<RuleVersionView> {
    if (!/^\d{1,9}$/.test(version) || Number(version) < 1) {
      throw new InvalidParametersError([
        { parameter: 'version', message: 'version must be a whole number from 1' },
      ]);
    }
    return this.rules.version(ruleId, Number(version));
  }

  @Post(':ruleId/test')
  @Access('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Test a rule',
    description:
      "Without a body (or with {}), runs the rule's own Tests. With {events: [...]}, evaluates each event against the current version as ingest would and answers with each hit's title, dedup key, severity and output fields.",
  })
  @ApiParam(RULE_ID_PARAM)
  @ApiBody({
    type: TestRuleBody,
    required: false,
    examples: {
      ownTests: { summary: 'Run the rule’s own tests', value: {} },
      events: { summary: 'Evaluate the seed events', value: { events: INGEST_EXAMPLE } },
    },
  })
  @ApiOkResponse({ type: RuleTestRunDto })
  @ApiProblems(400, 404)
  test(
    @Param('ruleId') ruleId: string,
    @Req() request: FastifyRequest,
    @Query() query: RawQuery,
  ): ReturnType<RulesService['test']> {
    rejectUnknown(query, []);
    return this.rules.test(ruleId, parseTestRuleBody(request.body));
  }
}
