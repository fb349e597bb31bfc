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
  @ApiOperation({ summary: 'Readiness', description: 'The database answers a query.' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiProblems(503)
  async ready(): Promise<{ status: string; database: string }> {
    if (!(await this.database.ping()))
      throw new DomainError(503, 'not_ready', 'Not ready', 'the database does not answer');
    return { status: 'ready', database: 'ok' };
  }
}
