/** Process-wide resources: configuration, the PostgreSQL data source, Redis and the SecretBox of secrets at rest. */
import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import Redis from 'ioredis';
import { SecretBox } from '@dizi/auth/secret-box';
import type { ApiConfig } from '@dizi/config/api.config';
import { aes256Key, secretFromEnvOrDataDir } from '@dizi/config/secret-keys';
import { API_CONFIG, REDIS, SECRET_BOX } from './tokens';

@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  static forRoot(config: ApiConfig, dataSource: DataSource) {
    return {
      module: CoreModule,
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: DataSource, useValue: dataSource },
        {
          provide: SECRET_BOX,
          useFactory: () =>
            new SecretBox(aes256Key(secretFromEnvOrDataDir('SETTINGS_ENCRYPTION_KEY', config.SETTINGS_ENCRYPTION_KEY, config.DIZI_DATA_DIR, 'settings.key'))),
        },
        {
          provide: REDIS,
          useFactory: () =>
            new Redis(config.REDIS_URL, { keyPrefix: config.REDIS_PREFIX, maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false }),
        },
      ],
      exports: [API_CONFIG, DataSource, REDIS, SECRET_BOX],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}
