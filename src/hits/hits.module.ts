import { Module } from '@nestjs/common';
import { storeProvider } from '../storage/database-store.js';
import { openHitStore } from '../storage/hits.repository.js';
import { HIT_STORE } from './hit-store.js';
import { HitsController } from './hits.controller.js';
import { HitsService } from './hits.service.js';

@Module({
  controllers: [HitsController],
  providers: [HitsService, storeProvider(HIT_STORE, openHitStore)],
  exports: [HitsService],
})
export class HitsModule {}
