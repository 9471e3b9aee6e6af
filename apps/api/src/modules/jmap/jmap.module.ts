import { Module } from '@nestjs/common';
import { JmapService } from './jmap.service';

/** JMAP at /jmap: served by plain HTTP handlers (jmap-routes.ts) installed in bootstrap.ts, not Nest controllers. */
@Module({ providers: [JmapService], exports: [JmapService] })
export class JmapModule {}
