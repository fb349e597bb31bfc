import { Module } from '@nestjs/common';
import { RulesModule } from '../rules/rules.module.js';
import { DataModelsController, GlobalHelpersController } from './library.controller.js';
import { LibraryService } from './library.service.js';

/** Panther's global helpers and data models: what Python rules import and read through event.udm(). */
@Module({
  imports: [RulesModule],
  controllers: [GlobalHelpersController, DataModelsController],
  providers: [LibraryService],
})
export class LibraryModule {}
