import { Module } from '@nestjs/common';
import { DatabaseHitStore } from '../storage/hits.repository.js';
import { HIT_STORE } from './hit-store.js';
import { HitsController } from './hits.controller.js';
import { HitsService } from './hits.service.js';

@Module({
  controllers: [HitsController],
  providers: [HitsService, { provide: HIT_STORE, useClass: DatabaseHitStore }],
  exports: [HitsService],
})
export class HitsModule {}
