import { Module } from '@nestjs/common';
import { QueueController, TransportRoutesController } from './queue.controller';
import { QueueService } from './queue.service';

/** The operators' mail queue (why each message waits, retry now, delete) and the fixed transport routes. */
@Module({ controllers: [QueueController, TransportRoutesController], providers: [QueueService] })
export class QueueModule {}
