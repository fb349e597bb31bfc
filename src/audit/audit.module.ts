import { Module } from '@nestjs/common';
import { storeProvider } from '../storage/database-store.js';
import { openAuditStore } from '../storage/audit.repository.js';
import { AUDIT_STORE } from './audit-store.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

/** Reads the trail back; the repositories that make changes write it (storage/audit.repository.ts). */
@Module({
  controllers: [AuditController],
  providers: [AuditService, storeProvider(AUDIT_STORE, openAuditStore)],
  exports: [AuditService],
})
export class AuditModule {}
