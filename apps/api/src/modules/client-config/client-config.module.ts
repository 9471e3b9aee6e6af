import { Module } from '@nestjs/common';
import { ClientConfigService } from './client-config.service';

/** Served by plain routes (client-config.routes.ts) ahead of the API's, as the clients ask for them: XML and text, not JSON. */
@Module({ providers: [ClientConfigService], exports: [ClientConfigService] })
export class ClientConfigModule {}
