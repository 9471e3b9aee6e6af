import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { z } from 'zod';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS } from '../../common/tokens';
import { Public } from '../auth/actor.decorator';

const healthView = z.object({ status: z.literal('ok'), database: z.literal('up'), redis: z.literal('up') });
class HealthDto extends createZodDto(healthView) {}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** Ready when PostgreSQL and Redis both answer. */
  @Public()
  @Get()
  @ZodResponse({ status: 200, type: HealthDto })
  async health() {
    const [db, redis] = await Promise.all([
      this.dataSource.query('SELECT 1').then(() => 'up', () => 'down'),
      this.redis.ping().then(() => 'up', () => 'down'),
    ]);
    if (db !== 'up' || redis !== 'up') throw new ServiceUnavailableException({ message: `database ${db}, redis ${redis}` });
    return { status: 'ok' as const, database: 'up' as const, redis: 'up' as const };
  }
}
