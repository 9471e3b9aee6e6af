import { Module } from '@nestjs/common';
import { AntispamController } from './antispam.controller';
import { AntispamService } from './antispam.service';

@Module({ controllers: [AntispamController], providers: [AntispamService] })
export class AntispamModule {}
