import { Module } from '@nestjs/common';
import { storeProvider } from '../storage/database-store.js';
import { openApiKeyStore } from '../storage/api-keys.repository.js';
import { API_KEY_STORE } from './api-key-store.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';

@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeysService, storeProvider(API_KEY_STORE, openApiKeyStore)],
  exports: [ApiKeysService],
})
export class AuthModule {}
