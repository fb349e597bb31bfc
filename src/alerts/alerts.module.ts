import { Module } from '@nestjs/common';
import { HitsModule } from '../hits/hits.module.js';
import { AlertsController } from './alerts.controller.js';
import { AlertsService } from './alerts.service.js';

@Module({ imports: [HitsModule], controllers: [AlertsController], providers: [AlertsService] })
export class AlertsModule {}
