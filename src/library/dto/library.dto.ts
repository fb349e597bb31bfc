// Response shapes of the global helpers and data models API, declared for the OpenAPI document.
import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { UploadRuleQuery } from '../../rules/dto/rule-queries.dto.js';
import { GLOBAL_HELPER_EXAMPLE } from '../library-examples.js';

/** The one upload option of a rule that also applies to a helper or data model. */
export class UploadLibraryQuery extends PickType(UploadRuleQuery, ['ignoreExtraKeys'] as const) {}

export class LibraryItemDto {
  @ApiProperty({ example: 'tripline_example_helpers', description: 'GlobalID or DataModelID' })
  id: string;
  @ApiProperty({ example: 1 }) version: number;
  @ApiProperty({ nullable: true, type: String, example: 'tripline_example_helpers.py' })
  filename: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Small functions the example rules share' })
  description: string | null;
  @ApiProperty({ example: [], description: 'A data model’s log types; empty for a helper' })
  logTypes: string[];
  @ApiProperty({ example: '2026-01-02T10:00:00.000Z' }) createdAt: string;
  @ApiProperty({ example: '2026-01-02T10:00:00.000Z' }) updatedAt: string;
}

export class LibraryItemDetailDto extends LibraryItemDto {
  @ApiProperty({
    example: GLOBAL_HELPER_EXAMPLE,
    description: 'The document as stored, its Python under Body',
  })
  source: string;
}

export class LibraryItemListDto {
  @ApiProperty({ type: [LibraryItemDto] }) items: LibraryItemDto[];
}

export class LibraryVersionDto {
  @ApiProperty({ example: 'tripline_example_helpers' }) id: string;
  @ApiProperty({ example: 1 }) version: number;
  @ApiProperty({ example: true }) current: boolean;
  @ApiProperty({ example: 'api' }) origin: string;
  @ApiProperty({ nullable: true, type: String, example: 'a1b2c3d4e5f6' }) createdByKey: string | null;
  @ApiProperty({ example: '2026-01-02T10:00:00.000Z' }) createdAt: string;
  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' })
  contentHash: string;
  @ApiPropertyOptional({ example: GLOBAL_HELPER_EXAMPLE }) source?: string;
}

export class LibraryVersionListDto {
  @ApiProperty({ type: [LibraryVersionDto] }) items: LibraryVersionDto[];
}

class DiagnosticDto {
  @ApiProperty({ example: 'unknown_key' }) code: string;
  @ApiProperty({ example: 'unknown key "Tags2" (ignored)' }) message: string;
}

export class LibraryUploadResultDto {
  @ApiProperty({ enum: ['created', 'updated', 'unchanged'], example: 'created' }) action: string;
  @ApiProperty({ type: LibraryItemDto }) item: LibraryItemDto;
  @ApiProperty({
    example: 3,
    description: 'Running Python rules whose tests passed with this version before it was stored',
  })
  rulesTested: number;
  @ApiProperty({ type: [DiagnosticDto], example: [] }) warnings: DiagnosticDto[];
}
