// The one explicit entity list, shared by the application and the migration CLI.
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { AlertStatusChangeEntity } from './entities/alert-status-change.entity.js';
import { AlertEntity } from './entities/alert.entity.js';
import { HitFieldEntity } from './entities/hit-field.entity.js';
import { HitEntity } from './entities/hit.entity.js';
import { IdempotencyKeyEntity } from './entities/idempotency-key.entity.js';
import { IngestBatchEntity } from './entities/ingest-batch.entity.js';
import { LibraryItemEntity } from './entities/library-item.entity.js';
import { LibraryVersionEntity } from './entities/library-version.entity.js';
import { RuleCacheEntryEntity } from './entities/rule-cache-entry.entity.js';
import { RuleVersionEntity } from './entities/rule-version.entity.js';
import { RuleEntity } from './entities/rule.entity.js';

export const ENTITIES = [
  RuleEntity,
  RuleVersionEntity,
  IngestBatchEntity,
  HitEntity,
  HitFieldEntity,
  AlertEntity,
  IdempotencyKeyEntity,
  AlertStatusChangeEntity,
  ApiKeyEntity,
  AuditEventEntity,
  LibraryItemEntity,
  LibraryVersionEntity,
  RuleCacheEntryEntity,
];

export {
  AlertEntity,
  ApiKeyEntity,
  AuditEventEntity,
  AlertStatusChangeEntity,
  HitEntity,
  HitFieldEntity,
  IdempotencyKeyEntity,
  IngestBatchEntity,
  LibraryItemEntity,
  LibraryVersionEntity,
  RuleCacheEntryEntity,
  RuleEntity,
  RuleVersionEntity,
};
export type { LibraryKind } from './entities/library-item.entity.js';
export type { AlertStatus } from './entities/alert.entity.js';
export type { LibraryVersions, RuleOrigin, RuleVersionMetadata } from './entities/rule-version.entity.js';
export { API_KEY_SCOPES, type ApiKeyScope } from './entities/api-key.entity.js';
