import { Module } from '@nestjs/common';
import { StatsController } from './stats.controller';
import { StatsService } from './stats.service';

/** Figures for the operators' dashboard, each one query the database answers. */
@Module({ controllers: [StatsController], providers: [StatsService] })
export class StatsModule {}
