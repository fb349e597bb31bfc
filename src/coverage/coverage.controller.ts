import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { ApiProblems } from '../common/openapi.js';
import { ApiTimeRange } from '../common/openapi-queries.js';
import type { RawQuery } from '../common/query-params.js';
import { CoverageService, parseCoverageQuery } from './coverage.service.js';

@ApiTags('coverage')
@Controller({ path: 'coverage', version: '1' })
export class CoverageController {
  constructor(private readonly coverage: CoverageService) {}

  @Get()
  @Access('read')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'MITRE ATT&CK coverage',
    description:
      "The tactics and techniques that enabled rules report (Reports: MITRE ATT&CK), each with its rules and the hits in the range. format=navigator answers with a layer file for the ATT&CK Navigator.",
  })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'navigator'] })
  @ApiTimeRange('Hits with an event time')
  @ApiOkResponse({ description: '{tactics: [{id, name, techniques: [{id, rules, hits}]}], unassigned}, or a Navigator layer' })
  @ApiProblems(400)
  async get(@Query() query: RawQuery): Promise<unknown> {
    const parsed = parseCoverageQuery(query);
    const coverage = await this.coverage.coverage(parsed);
    return parsed.format === 'navigator' ? this.coverage.navigatorLayer(coverage) : coverage;
  }
}
