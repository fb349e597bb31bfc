import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { ApiProblems } from '../common/openapi.js';
import { ApiQueries, oneOf, timeRange } from '../common/openapi-queries.js';
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
  @ApiQueries(
    oneOf('format', ['json', 'navigator'], 'json (default), or a layer file for the ATT&CK Navigator'),
    ...timeRange('Hits with an event time'),
  )
  @ApiOkResponse({ description: '{tactics: [{id, name, techniques: [{id, rules, hits}]}], unassigned}, or a Navigator layer' })
  @ApiProblems(400)
  async get(@Query() query: RawQuery): Promise<unknown> {
    const parsed = parseCoverageQuery(query);
    const coverage = await this.coverage.coverage(parsed);
    return parsed.format === 'navigator' ? this.coverage.navigatorLayer(coverage) : coverage;
  }
}
