import { Module } from '@nestjs/common';
import { HitsController } from './hits.controller.js';
import { HitsService } from './hits.service.js';

@Module({ controllers: [HitsController], providers: [HitsService], exports: [HitsService] })
export class HitsModule {}
