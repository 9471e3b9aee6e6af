import { Module } from '@nestjs/common';
import { MailboxDeliveryModule } from '../mailbox-delivery/mailbox-delivery.module';
import { JmapService } from './jmap.service';

/** JMAP at /jmap: served by plain HTTP handlers (jmap-routes.ts) installed in bootstrap.ts, not Nest controllers. */
@Module({ imports: [MailboxDeliveryModule], providers: [JmapService], exports: [JmapService] })
export class JmapModule {}
