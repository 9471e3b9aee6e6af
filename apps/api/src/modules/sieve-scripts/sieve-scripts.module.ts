import { Module } from '@nestjs/common';
import { SieveScriptsController } from './sieve-scripts.controller';
import { SieveScriptsService } from './sieve-scripts.service';

@Module({ controllers: [SieveScriptsController], providers: [SieveScriptsService] })
export class SieveScriptsModule {}
