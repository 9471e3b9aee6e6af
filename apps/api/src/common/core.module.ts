/** Process-wide resources: configuration, the PostgreSQL data source and Redis. */
import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import Redis from 'ioredis';
import type { ApiConfig } from '@dizi/config/api.config';
import { API_CONFIG, REDIS } from './tokens';

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
          provide: REDIS,
          useFactory: () =>
            new Redis(config.REDIS_URL, { keyPrefix: config.REDIS_PREFIX, maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false }),
        },
      ],
      exports: [API_CONFIG, DataSource, REDIS],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}
