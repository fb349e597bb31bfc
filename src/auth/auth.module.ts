import { Module } from '@nestjs/common';
import { DatabaseApiKeyStore } from '../storage/api-keys.repository.js';
import { API_KEY_STORE } from './api-key-store.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';

@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeysService, { provide: API_KEY_STORE, useClass: DatabaseApiKeyStore }],
  exports: [ApiKeysService],
})
export class AuthModule {}
