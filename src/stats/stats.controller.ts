import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { ApiProblems } from '../common/openapi.js';
import { ApiQueries, oneOf, ruleIdParameter, timeRange } from '../common/openapi-queries.js';
import type { RawQuery } from '../common/query-params.js';
import { parseStatsQuery, StatsService, type StatsAnswer } from './stats.service.js';

@ApiTags('stats')
@Controller({ path: 'stats', version: '1' })
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @Access('read')
  @ApiOperation({
    summary: 'Hits and alerts per rule over time',
    description:
      'Counts per rule and per hour or day of event time (default: the last 7 days, by day), with totals per rule.',
  })
  @ApiQueries(
    oneOf('interval', ['hour', 'day'], 'The width of a bucket (default: day)'),
    ruleIdParameter('counts'),
    ...timeRange('Event time'),
  )
  @ApiOkResponse({
    description:
      '{since, until, interval, buckets: [{start, ruleId, hits, alerts}], totals: [{ruleId, hits, alerts}], hint?}: `hint` says where the newest hit is when the range holds none (events sent long after they happened)',
  })
  @ApiProblems(400)
  get(@Query() query: RawQuery): Promise<StatsAnswer> {
    return this.stats.stats(parseStatsQuery(query));
  }
}
