import { Module } from '@nestjs/common';
import { JmapModule } from '../jmap/jmap.module';
import { QuarantineController } from './quarantine.controller';
import { QuarantineService } from './quarantine.service';

@Module({ imports: [JmapModule], controllers: [QuarantineController], providers: [QuarantineService] })
export class QuarantineModule {}
