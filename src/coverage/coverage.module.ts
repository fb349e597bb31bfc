import { Module } from '@nestjs/common';
import { RulesModule } from '../rules/rules.module.js';
import { CoverageController } from './coverage.controller.js';
import { CoverageService } from './coverage.service.js';

@Module({ imports: [RulesModule], controllers: [CoverageController], providers: [CoverageService] })
export class CoverageModule {}
