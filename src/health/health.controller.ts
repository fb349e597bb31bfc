import { Controller, Get, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.js';
import { DomainError } from '../common/errors.js';
import { ApiProblems } from '../common/openapi.js';
import { Database } from '../storage/database.service.js';

class HealthDto {
  @ApiProperty({ example: 'ok' }) status: string;
}

class ReadinessDto {
  @ApiProperty({ example: 'ready' }) status: string;
  @ApiProperty({ example: 'ok' }) database: string;
}

@ApiTags('health')
@Controller({ version: VERSION_NEUTRAL })
export class HealthController {
  constructor(private readonly database: Database) {}

  @Get('healthz')
  @Access('public')
  @ApiOperation({ summary: 'Liveness', description: 'The process answers.' })
  @ApiOkResponse({ type: HealthDto })
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Access('public')
  @ApiOperation({
    summary: 'Readiness',
    description:
      'The database answers a query, and after a fault (a full disk, a database that stopped or froze, a lock held by another process) a write commits again. Answers within a few seconds even when the database does not.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiProblems(503)
  async ready(): Promise<{ status: string; database: string }> {
    const readiness = await this.database.readiness();
    if (!readiness.ready) {
      const error = new DomainError(503, 'not_ready', 'Not ready', `${readiness.code}: ${readiness.detail}`, {
        database: readiness.code,
      });
      error.headers = { 'retry-after': '5' };
      throw error;
    }
    return { status: 'ready', database: 'ok' };
  }
}
