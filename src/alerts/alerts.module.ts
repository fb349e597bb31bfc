import { Module } from '@nestjs/common';
import { HitsModule } from '../hits/hits.module.js';
import { storeProvider } from '../storage/database-store.js';
import { openAlertStore } from '../storage/alerts.repository.js';
import { ALERT_STORE } from './alert-store.js';
import { AlertsController } from './alerts.controller.js';
import { AlertsService } from './alerts.service.js';

@Module({
  imports: [HitsModule],
  controllers: [AlertsController],
  providers: [AlertsService, storeProvider(ALERT_STORE, openAlertStore)],
})
export class AlertsModule {}
