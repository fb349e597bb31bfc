import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsIn, IsString, Matches, MaxLength } from 'class-validator';
import type { Actor } from '../audit/audit.service.js';
import { ApiProblems } from '../common/openapi.js';
import { Access, RequestActor } from './access.js';
import { API_KEY_SCOPES, type ApiKeyScope } from './api-key.js';
import { ApiKeysService, type ApiKeyView } from './api-keys.service.js';

export class CreateApiKeyBody {
  @ApiProperty({ example: 'cloudtrail-forwarder', maxLength: 100 })
  @IsString()
  @MaxLength(100)
  @Matches(/^[\x20-\x7e]*\S[\x20-\x7e]*$/, { message: 'name must be printable ASCII and not blank' })
  name: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    isArray: true,
    example: ['ingest'],
    description: 'ingest: send events; read: queries; admin: everything, including rules and keys',
  })
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes: ApiKeyScope[];
}

class ApiKeyDto {
  @ApiProperty({ example: '3f9a0c1e2b4d', description: 'Public id: the part after tl_ in the key' })
  id: string;
  @ApiProperty({ example: 'fluent-bit' }) name: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes: string[];
  @ApiProperty({ example: '2026-01-05T09:00:00.000Z' }) createdAt: string;
  @ApiProperty({ nullable: true, type: String, description: 'The key that created it', example: 'env-admin' })
  createdBy: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) revokedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'To the minute',
    example: '2026-01-05T09:42:00.000Z',
  })
  lastUsedAt: string | null;
}

class CreatedApiKeyDto {
  @ApiProperty({
    description: 'The key itself. It is shown only in this answer and cannot be read again.',
    example: 'tl_3f9a0c1e2b4d_EXAMPLE0example1EXAMPLE2example3EXAMPLE4exa',
  })
  key: string;
  @ApiProperty({ type: ApiKeyDto }) apiKey: ApiKeyDto;
}

class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto] }) items: ApiKeyDto[];
}

@ApiTags('api-keys')
@Controller({ path: 'api-keys', version: '1' })
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Access('admin')
  @ApiOperation({
    summary: 'Create an API key',
    description:
      'A random 256-bit key with a name and scopes. The answer holds the key once; only its hash is stored.',
  })
  @ApiBody({ type: CreateApiKeyBody })
  @ApiResponse({ status: 201, type: CreatedApiKeyDto })
  @ApiProblems(400)
  create(
    @Body() body: CreateApiKeyBody,
    @RequestActor() actor: Actor,
  ): Promise<{ key: string; apiKey: ApiKeyView }> {
    return this.keys.create(body.name.trim(), body.scopes, actor);
  }

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'List API keys', description: 'Every key, revoked ones too; never a secret.' })
  @ApiOkResponse({ type: ApiKeyListDto })
  async list(): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.keys.list() };
  }

  @Delete(':id')
  @Access('admin')
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'The key fails from its next request on. The record stays, for the audit trail.',
  })
  @ApiParam({ name: 'id', description: 'The key’s public id: the part after tl_', example: '3f9a0c1e2b4d' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiProblems(404)
  revoke(@Param('id') id: string, @RequestActor() actor: Actor): Promise<ApiKeyView> {
    return this.keys.revoke(id, actor);
  }
}
